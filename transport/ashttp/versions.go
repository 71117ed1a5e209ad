package ashttp

import (
	"fmt"
	"strings"
)

// Versions are the ActiveSync protocol versions MS-ASHTTP 2.2.1.1.2.6 defines, oldest
// first. 1.0, 2.0 and 2.1, which old servers still announce, are not among them and
// are ignored.
var Versions = []string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}

var versionBytes = map[string]byte{"2.5": 25, "12.0": 120, "12.1": 121, "14.0": 140, "14.1": 141, "16.0": 160, "16.1": 161}

// VersionByte returns the base64 query's Protocol version byte for a version
// (MS-ASHTTP 2.2.1.1.1.1: the version times ten, 141 for 14.1).
func VersionByte(v string) (byte, error) {
	b, ok := versionBytes[v]
	if !ok {
		return 0, queryErr("Protocol version", -1, "%q is not a protocol version; use one of %s", v, strings.Join(Versions, ", "))
	}
	return b, nil
}

func versionFromByte(b byte) (string, bool) {
	for v, x := range versionBytes {
		if x == b {
			return v, true
		}
	}
	return "", false
}

// KnownVersion reports whether v is one of Versions.
func KnownVersion(v string) bool { _, ok := versionBytes[v]; return ok }

// ParseVersions reads an MS-ASProtocolVersions (or X-MS-RP) header value, a comma
// separated list (MS-ASHTTP 2.2.4.1.2.2), keeping the versions this library knows
// in the order of Versions. Unknown entries ("1.0", "2.1", garbage) are skipped.
func ParseVersions(header string) []string {
	seen := map[string]bool{}
	for _, f := range strings.Split(header, ",") {
		seen[strings.TrimSpace(f)] = true
	}
	var out []string
	for _, v := range Versions {
		if seen[v] {
			out = append(out, v)
		}
	}
	return out
}

// NegotiationError reports that client and server share no protocol version.
type NegotiationError struct {
	Server, Client []string
}

func (e *NegotiationError) Error() string {
	if len(e.Server) == 0 {
		return "ashttp: the server announced no protocol version this client knows (MS-ASProtocolVersions is empty or unknown): check that the URL is an ActiveSync endpoint"
	}
	return fmt.Sprintf("ashttp: no common protocol version: the server offers %s, the client allows %s; allow one of the server's versions",
		strings.Join(e.Server, ","), strings.Join(e.Client, ","))
}

// Negotiate picks the highest version both sides speak (MS-ASHTTP 3.1.5.1: the
// client uses a version the server listed). client empty means every version.
func Negotiate(server, client []string) (string, error) {
	if len(client) == 0 {
		client = Versions
	}
	best := ""
	for _, v := range Versions { // ascending, so the last match is the highest
		if contains(server, v) && contains(client, v) {
			best = v
		}
	}
	if best == "" {
		return "", &NegotiationError{Server: server, Client: client}
	}
	return best, nil
}

// AtLeast reports whether version a is b or later (both must be known versions).
func AtLeast(a, b string) bool { return versionBytes[a] >= versionBytes[b] }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
