package hierarchy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/easkit/foldersync/internal/jsontext"
	"github.com/easkit/foldersync/transport"
)

// The snapshot file format (see FileStore).
const (
	snapshotMagic   = "foldersync-hierarchy-snapshot"
	snapshotVersion = "v1"
	// maxHeaderLen bounds the header line; a v1 header is at most 127 bytes.
	maxHeaderLen = 256
)

// formatHeader returns the header line of a snapshot whose body is bodyLen bytes
// with SHA-256 sum: the only header a v1 reader accepts for that body.
func formatHeader(bodyLen int64, sum [sha256.Size]byte) string {
	return snapshotMagic + " " + snapshotVersion + " len=" + strconv.FormatInt(bodyLen, 10) + " sha256=" + hex.EncodeToString(sum[:]) + "\n"
}

// encodeSnapshot returns the header line and the body of the snapshot of syncKey and
// tree. The body is JSON, one folder a line, sorted by ServerID:
//
//	{"syncKey":"3","folders":[
//	{"serverId":"1","parentId":"0","displayName":"Inbox","type":2},
//	{"serverId":"2","parentId":"1","displayName":"Ünïcödé","type":12}
//	]}
//
// The tree's invariants (UTF-8 text, valid types) make it valid JSON that decodes to
// the same strings.
func encodeSnapshot(syncKey string, tree *Tree, unverified bool) (header, body []byte) {
	folders := tree.Folders()
	size := 64 + len(syncKey)
	for i := range folders {
		f := &folders[i]
		size += 70 + len(f.ServerID) + len(f.ParentID) + len(f.DisplayName)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"syncKey":`...)
	b = jsontext.AppendString(b, syncKey)
	if unverified {
		b = append(b, `,"unverified":true`...)
	}
	b = append(b, `,"folders":[`...)
	for i := range folders {
		f := &folders[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"serverId":`...)
		b = jsontext.AppendString(b, f.ServerID)
		b = append(b, `,"parentId":`...)
		b = jsontext.AppendString(b, f.ParentID)
		b = append(b, `,"displayName":`...)
		b = jsontext.AppendString(b, f.DisplayName)
		b = append(b, `,"type":`...)
		b = strconv.AppendUint(b, uint64(f.Type), 10)
		if tree.IsLocal(f.ServerID) {
			b = append(b, `,"local":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, "\n]}\n"...)
	return []byte(formatHeader(int64(len(b)), sha256.Sum256(b))), b
}

// snapshotBody is the JSON body of a snapshot.
type snapshotBody struct {
	SyncKey    string           `json:"syncKey"`
	Unverified bool             `json:"unverified,omitempty"`
	Folders    []snapshotFolder `json:"folders"`
}

type snapshotFolder struct {
	ServerID    string `json:"serverId"`
	ParentID    string `json:"parentId"`
	DisplayName string `json:"displayName"`
	Type        int    `json:"type"`
	// Local marks a folder the client created since the last committed FolderSync
	// (Tree.AddLocal): it must survive a restart so a Status 9 can roll it back.
	Local bool `json:"local,omitempty"`
}

func corrupt(kind error, format string, args ...any) *CorruptError {
	return &CorruptError{Reason: fmt.Sprintf(format, args...), Err: kind}
}

// parseHeader checks the start of a snapshot file: head is its first bytes (at least
// min(fileLen, maxHeaderLen) of them) and fileLen its length. It returns where the body
// starts and the body's expected SHA-256, or a *CorruptError (without Path) saying
// why the file cannot hold a complete snapshot.
func parseHeader(head []byte, fileLen, maxSize int64) (bodyStart int, sum [sha256.Size]byte, err error) {
	if n := min(len(head), len(snapshotMagic)); string(head[:n]) != snapshotMagic[:n] {
		return 0, sum, corrupt(ErrBadMagic, "the file starts with %q", head[:min(len(head), 40)])
	}
	if fileLen == 0 {
		return 0, sum, corrupt(ErrTruncated, "the file is empty")
	}
	nl := bytes.IndexByte(head[:min(len(head), maxHeaderLen)], '\n')
	if nl < 0 {
		if fileLen < maxHeaderLen {
			return 0, sum, corrupt(ErrTruncated, "the file (%d bytes) ends inside the header line", fileLen)
		}
		return 0, sum, corrupt(ErrBadHeader, "no end of the header line in the first %d bytes", maxHeaderLen)
	}
	line := string(head[:nl])
	fields := strings.Split(line, " ")
	if fields[0] != snapshotMagic {
		return 0, sum, corrupt(ErrBadMagic, "the header starts with %q", fields[0])
	}
	if len(fields) < 2 || fields[1] != snapshotVersion {
		v := ""
		if len(fields) > 1 {
			v = fields[1]
		}
		return 0, sum, corrupt(ErrBadHeader, "format version %q; this build reads %s", v, snapshotVersion)
	}
	if len(fields) != 4 {
		return 0, sum, corrupt(ErrBadHeader, "header %q has %d fields, want 4", line, len(fields))
	}
	lenText, ok := strings.CutPrefix(fields[2], "len=")
	bodyLen, perr := strconv.ParseInt(lenText, 10, 64)
	if !ok || perr != nil || bodyLen < 0 || lenText == "" || lenText[0] < '0' || lenText[0] > '9' {
		return 0, sum, corrupt(ErrBadHeader, "bad body length %q", fields[2])
	}
	sumText, ok := strings.CutPrefix(fields[3], "sha256=")
	if !ok || len(sumText) != hex.EncodedLen(sha256.Size) {
		return 0, sum, corrupt(ErrBadHeader, "bad checksum field %q", fields[3])
	}
	if _, herr := hex.Decode(sum[:], []byte(sumText)); herr != nil {
		return 0, sum, corrupt(ErrBadHeader, "bad checksum field %q: %v", fields[3], herr)
	}
	// Exactly the header a writer produces: no leading zeros, lower-case hex. Any
	// other spelling is damage, even if it would parse to the same values.
	if want := formatHeader(bodyLen, sum); line+"\n" != want {
		return 0, sum, corrupt(ErrBadHeader, "header %q is not in canonical form", line)
	}
	if bodyLen > maxSize {
		return 0, sum, corrupt(ErrTooLarge, "the header announces a %d-byte body; the limit is %d bytes", bodyLen, maxSize)
	}
	switch have := fileLen - int64(nl+1); {
	case have < bodyLen:
		return 0, sum, corrupt(ErrTruncated, "the body is %d bytes; the header announces %d", have, bodyLen)
	case have > bodyLen:
		return 0, sum, corrupt(ErrTrailingData, "the body is %d bytes; the header announces %d", have, bodyLen)
	}
	return nl + 1, sum, nil
}

// decodeSnapshot decodes a whole snapshot file, checking everything: header, length,
// checksum, JSON and the validity of the state. Errors are *CorruptError without Path.
func decodeSnapshot(data []byte, maxSize int64) (State, error) {
	if int64(len(data)) > maxSize {
		return State{}, corrupt(ErrTooLarge, "the file is %d bytes; the limit is %d", len(data), maxSize)
	}
	start, sum, err := parseHeader(data, int64(len(data)), maxSize)
	if err != nil {
		return State{}, err
	}
	body := data[start:]
	if got := sha256.Sum256(body); got != sum {
		return State{}, corrupt(ErrChecksumMismatch, "the body's SHA-256 is %x; the header says %x", got, sum)
	}
	var sb snapshotBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sb); err != nil {
		return State{}, corrupt(ErrBadJSON, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return State{}, corrupt(ErrBadJSON, "data after the JSON object")
	}
	if err := checkSyncKey(sb.SyncKey); err != nil {
		return State{}, corrupt(ErrInvalidSnapshot, "%v", err)
	}
	folders := make([]Folder, len(sb.Folders))
	for i, f := range sb.Folders {
		if f.Type < 1 || f.Type > 255 {
			return State{}, corrupt(ErrInvalidSnapshot, "folder %d (%q): type %d", i, f.ServerID, f.Type)
		}
		folders[i] = Folder{ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: transport.FolderType(f.Type)}
	}
	tree, err := BuildTree(folders)
	if err != nil {
		return State{}, corrupt(ErrInvalidSnapshot, "%v", err)
	}
	for _, f := range sb.Folders {
		if f.Local {
			tree.markLocal(f.ServerID)
		}
	}
	return State{SyncKey: sb.SyncKey, Tree: tree, Unverified: sb.Unverified}, nil
}

// readSnapshot reads and decodes the snapshot file at path. A missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist); a file that cannot hold a valid
// snapshot is a *CorruptError; anything else is an I/O error.
func readSnapshot(path string, maxSize int64) (State, error) {
	f, err := os.Open(path)
	if err != nil {
		return State{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return State{}, err
	}
	if !fi.Mode().IsRegular() {
		return State{}, fmt.Errorf("hierarchy: %s is not a regular file", path)
	}
	// Refuse an oversized file before reading it into memory.
	if fi.Size() > maxSize {
		return State{}, &CorruptError{Path: path, Reason: fmt.Sprintf("the file is %d bytes; the limit is %d", fi.Size(), maxSize), Err: ErrTooLarge}
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return State{}, fmt.Errorf("hierarchy: reading %s: %w", path, err)
	}
	st, err := decodeSnapshot(data, maxSize)
	if ce := (*CorruptError)(nil); errors.As(err, &ce) {
		ce.Path = path
	}
	return st, err
}

// verifySnapshotFile reports whether the file at path is a complete snapshot whose
// body matches its checksum (nil), without decoding the body or reading the file
// into memory: Commit's test of whether the current snapshot is worth keeping as the
// backup. A file passing it was written whole by Commit, which only writes valid
// states.
func verifySnapshotFile(path string, maxSize int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("hierarchy: %s is not a regular file", path)
	}
	head := make([]byte, min(fi.Size(), maxHeaderLen))
	if _, err := io.ReadFull(f, head); err != nil {
		return err
	}
	start, sum, err := parseHeader(head, fi.Size(), maxSize)
	if err != nil {
		return err
	}
	if _, err := f.Seek(int64(start), io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), sum[:]) {
		return corrupt(ErrChecksumMismatch, "checksum mismatch")
	}
	return nil
}
