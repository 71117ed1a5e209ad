//go:build libwbxml && cgo

// Package libwbxml binds libwbxml2's WBXML-to-XML converter, only to measure
// foldersync's codec against it in the same run (docs/BENCHMARKS.md). It needs
// `apt-get install -y libwbxml2-dev` and the build tag libwbxml; nothing in the
// library depends on it.
package libwbxml

/*
#cgo CFLAGS: -I/usr/include/libwbxml-1.0
#cgo LDFLAGS: -lwbxml2
#include <stdlib.h>
#include <wbxml/wbxml.h>
#include <wbxml/wbxml_conv.h>

static int convert(unsigned char *in, unsigned int len, unsigned int *outlen) {
	WBXMLConvWBXML2XML *conv = NULL;
	WB_UTINY *xml = NULL;
	WB_ULONG xmllen = 0;
	WBXMLError ret = wbxml_conv_wbxml2xml_create(&conv);
	if (ret != WBXML_OK) return ret;
	wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
	ret = wbxml_conv_wbxml2xml_run(conv, in, len, &xml, &xmllen);
	wbxml_conv_wbxml2xml_destroy(conv);
	if (xml != NULL) free(xml);
	*outlen = xmllen;
	return ret;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// WBXMLToXML converts body to compact XML with libwbxml2 (as `wbxml2xml -l
// ACTIVESYNC -m 0 -k` does) and returns the length of the XML it produced.
func WBXMLToXML(body []byte) (int, error) {
	if len(body) == 0 {
		return 0, fmt.Errorf("libwbxml: empty body")
	}
	var outlen C.uint
	ret := C.convert((*C.uchar)(unsafe.Pointer(&body[0])), C.uint(len(body)), &outlen)
	if ret != C.WBXML_OK {
		return 0, fmt.Errorf("libwbxml: error %d", int(ret))
	}
	return int(outlen), nil
}
