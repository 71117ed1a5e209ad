package sim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
)

// Profile is how the server treats a SyncKey that is not the current one (see the
// package documentation and DESIGN.md, "Real peers").
type Profile uint8

// The profiles.
const (
	// Replay answers the previous key with the stored lost response, byte for byte,
	// and any other unknown key with Status 9 (Horde ActiveSync 2.41).
	Replay Profile = iota + 1
	// Reexecute answers the previous key by re-running the request against the
	// hierarchy that key named, with a new key, and any other unknown key with
	// Status 9 (Z-Push).
	Reexecute
	// Lenient never compares keys: any non-zero key gets the changes since the last
	// response the server sent, and a new key only if there are changes (SOGo 5.8).
	Lenient
	// SilentReset answers a stale or unknown key with Status 1 and the whole
	// hierarchy as Adds, under a new key.
	SilentReset
)

var profileNames = [...]string{Replay: "replay", Reexecute: "reexecute", Lenient: "lenient", SilentReset: "silent-reset"}

// String returns the profile's name ("replay", "reexecute", "lenient",
// "silent-reset").
func (p Profile) String() string {
	if p >= Replay && p <= SilentReset {
		return profileNames[p]
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// KeyCase is how a request's SyncKey relates to the keys the server issued.
type KeyCase uint8

// The key cases.
const (
	// KeyZero is the initial key "0".
	KeyZero KeyCase = iota + 1
	// KeyCurrent is the last key the server issued (the one the client should send).
	KeyCurrent
	// KeyPrevious is the key the server answered with the current key: the client
	// sends it again when it lost that answer.
	KeyPrevious
	// KeyUnknown is any other key: older, made up, or sent before any sync.
	KeyUnknown
)

var keyCaseNames = [...]string{KeyZero: "zero", KeyCurrent: "current", KeyPrevious: "previous", KeyUnknown: "unknown"}

// String returns the key case's name ("zero", "current", "previous", "unknown").
func (c KeyCase) String() string {
	if c >= KeyZero && c <= KeyUnknown {
		return keyCaseNames[c]
	}
	return "KeyCase(" + strconv.Itoa(int(c)) + ")"
}

// Exchange is one round trip as the server saw it, for tests and audits.
type Exchange struct {
	// N is the request's number, from 1 (the Reply's RequestID is "sim-N").
	N int
	// RequestKey is the SyncKey the request carried.
	RequestKey string
	// Case is how the server classified RequestKey (whatever the profile does with it).
	Case KeyCase
	// HTTPStatus is 200, or 500 for a request body the decoder refused.
	HTTPStatus int
	// Status is the FolderSync status answered (0 with HTTP 500).
	Status int
	// ResponseKey is the SyncKey answered, "" when the response has none.
	ResponseKey string
	// Changes is the number of changes answered.
	Changes int
	// Replayed is set when the response is a stored earlier one (Replay profile).
	Replayed bool
}

// Option configures a Server.
type Option func(*Server)

// WithFolders seeds the server's hierarchy (as [Server.Seed]); New panics if the
// folders are not a valid hierarchy.
func WithFolders(folders ...hierarchy.Folder) Option {
	return func(s *Server) {
		if err := s.Seed(folders...); err != nil {
			panic(err)
		}
	}
}

// WithKeyPrefix makes issued SyncKeys prefix+"1", prefix+"2", ... instead of "1",
// "2", ..., to check that clients treat keys as opaque (SOGo's look like
// "vm_7782_30b26152_0"). The prefix must leave room for the counter within the 64
// characters MS-ASCMD allows (at most MaxKeyPrefixLength); New panics otherwise.
func WithKeyPrefix(prefix string) Option {
	return func(s *Server) {
		if transport.TooLong(prefix, MaxKeyPrefixLength) {
			panic(fmt.Sprintf("sim: key prefix %q is longer than %d characters", prefix, MaxKeyPrefixLength))
		}
		s.prefix = prefix
	}
}

// MaxKeyPrefixLength is the longest prefix WithKeyPrefix accepts: 64 characters
// (MS-ASCMD 2.2.3.181.2) less 20 for the counter.
const MaxKeyPrefixLength = transport.MaxSyncKeyLength - 20

// keyState is an issued key and the hierarchy it names. snap is never modified
// (the server's hierarchy is copy-on-write), nil for the empty hierarchy.
type keyState struct {
	key  string
	snap map[string]hierarchy.Folder
}

// Server is an in-process EAS FolderSync server for one device. It implements
// [transport.Transport] and is safe for concurrent use.
type Server struct {
	profile Profile
	prefix  string

	mu      sync.Mutex
	folders map[string]hierarchy.Folder // copy on write, see mutate
	seq     int                         // keys issued so far
	// cur is the last key issued and the hierarchy it names; for Lenient, the
	// per-device folder cache. cur.key == "" means the device has no state.
	cur keyState
	// prev is the key the client sent to get cur ("" after key 0 or a reset).
	prev keyState
	// lastBody is the encoded response that issued cur (Replay).
	lastBody []byte
	history  []Exchange
}

// New returns a server with the given profile, an empty hierarchy unless an option
// seeds it, and a device that has not synced yet. It panics on an undefined profile.
func New(profile Profile, opts ...Option) *Server {
	if profile < Replay || profile > SilentReset {
		panic(fmt.Sprintf("sim: undefined profile %d", profile))
	}
	s := &Server{profile: profile, folders: map[string]hierarchy.Folder{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Profile returns the server's profile.
func (s *Server) Profile() Profile { return s.profile }

// CurrentKey returns the last SyncKey the server issued, "" before the first sync.
func (s *Server) CurrentKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.key
}

// Requests returns the number of requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.history)
}

// History returns a copy of the log of exchanges, oldest first.
func (s *Server) History() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.history...)
}

// FolderSync implements [transport.Transport]: one FolderSync round trip through
// the WBXML codec. It returns ctx.Err() if ctx is done, an error for a nil request
// or one that cannot be encoded, and otherwise a Reply (HTTP 200 with the decoded
// response, or HTTP 500 with none if the request body does not decode).
func (s *Server) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("sim: nil FolderSyncRequest")
	}
	body, err := req.MarshalWBXML()
	if err != nil {
		return nil, fmt.Errorf("sim: encode request: %w", err)
	}
	decoded, decErr := transport.UnmarshalFolderSyncRequest(body)

	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.history) + 1
	id := "sim-" + strconv.Itoa(n)
	if decErr != nil {
		s.history = append(s.history, Exchange{N: n, RequestKey: req.SyncKey, Case: s.classify(req.SyncKey), HTTPStatus: 500})
		return &transport.Reply{HTTPStatus: 500, RequestID: id}, nil
	}
	ex := Exchange{N: n, RequestKey: decoded.SyncKey, Case: s.classify(decoded.SyncKey), HTTPStatus: 200}
	out, replayed, err := s.respond(decoded.SyncKey, ex.Case)
	if err != nil {
		return nil, err
	}
	resp, err := transport.UnmarshalFolderSyncResponse(out)
	if err != nil { // the codec cannot read what it wrote: a bug, not a server reply
		return nil, fmt.Errorf("sim: decode own response: %w", err)
	}
	ex.Replayed = replayed
	ex.Status, ex.ResponseKey, ex.Changes = resp.Status, resp.SyncKey, len(resp.Changes)
	s.history = append(s.history, ex)
	return &transport.Reply{HTTPStatus: 200, Response: resp, RequestID: id}, nil
}

// classify says how key relates to the issued keys. Called with s.mu held.
func (s *Server) classify(key string) KeyCase {
	switch {
	case key == transport.InitialSyncKey:
		return KeyZero
	case s.cur.key != "" && key == s.cur.key:
		return KeyCurrent
	case s.prev.key != "" && key == s.prev.key:
		return KeyPrevious
	}
	return KeyUnknown
}

// respond computes the answer to key as the profile dictates, updates the key
// state, and returns the encoded response. Called with s.mu held.
func (s *Server) respond(key string, c KeyCase) (body []byte, replayed bool, err error) {
	switch {
	case c == KeyZero:
		return s.advance(keyState{}, nil)
	case s.profile == Lenient:
		return s.lenient(key)
	case c == KeyCurrent:
		return s.advance(s.cur, s.cur.snap)
	}
	switch {
	case s.profile == Replay && c == KeyPrevious:
		return s.lastBody, true, nil
	case s.profile == Reexecute && c == KeyPrevious:
		return s.advance(s.prev, s.prev.snap)
	case s.profile == SilentReset:
		return s.advance(keyState{}, nil)
	}
	return encode(transport.NewStatusResponse(9))
}

// advance answers with the changes from base to now under a new key; sent becomes
// the previous key. Called with s.mu held.
func (s *Server) advance(sent keyState, base map[string]hierarchy.Folder) ([]byte, bool, error) {
	key := s.prefix + strconv.Itoa(s.seq+1)
	body, _, err := encode(transport.NewSuccessResponse(key, diff(base, s.folders)))
	if err != nil {
		return nil, false, err
	}
	s.seq++
	s.prev, s.cur, s.lastBody = sent, keyState{key: key, snap: s.folders}, body
	return body, false, nil
}

// lenient answers a non-zero key as SOGo does: Status 9 for a device with no
// state; Status 1, Count 0 and the key echoed for an empty key; otherwise the
// changes since the per-device cache (s.cur.snap), with a new key if there are any
// and the key sent echoed if there are none. Called with s.mu held.
func (s *Server) lenient(key string) ([]byte, bool, error) {
	if s.cur.key == "" {
		return encode(transport.NewStatusResponse(9))
	}
	if key == "" {
		// SOGo answers an empty <SyncKey/> with Status 1, Count 0 and the empty key
		// echoed, whatever changed; its folder cache is left as it was.
		return encode(transport.NewSuccessResponse(key, nil))
	}
	changes := diff(s.cur.snap, s.folders)
	if len(changes) == 0 {
		return encode(transport.NewSuccessResponse(key, nil))
	}
	return s.advance(keyState{key: key, snap: s.cur.snap}, s.cur.snap)
}

func encode(r *transport.FolderSyncResponse) ([]byte, bool, error) {
	b, err := r.MarshalWBXML()
	if err != nil {
		return nil, false, fmt.Errorf("sim: encode response: %w", err)
	}
	return b, false, nil
}
