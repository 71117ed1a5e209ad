package transitions

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The facts about every code (name, meaning, resolution, spec section) come from
// statuscodes.tsv, embedded at build time; what each code does to a session is
// decided below, in eventFor. A test keeps the two in step.
//
//go:embed statuscodes.tsv
var statusCodesTSV string

// Source says what kind of code a Rule classifies.
type Source uint8

// Sources of codes.
const (
	// FolderSyncStatus: the Status of a FolderSync response (MS-ASCMD 2.2.3.177.5),
	// and the legacy 8 some servers send.
	FolderSyncStatus Source = iota + 1
	// CommonStatus: a status common to all commands (MS-ASCMD 2.2.2), 101-184.
	CommonStatus
	// HTTPStatus: the HTTP status of the response (MS-ASHTTP 2.2.2.1.1).
	HTTPStatus
	// TransportCondition: no usable response at all, or a header that overrides it.
	TransportCondition
)

func (s Source) String() string {
	switch s {
	case FolderSyncStatus:
		return "FolderSync status"
	case CommonStatus:
		return "common status"
	case HTTPStatus:
		return "HTTP"
	case TransportCondition:
		return "transport"
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// Condition is a transport outcome that has no code.
type Condition uint8

// Conditions.
const (
	// Timeout: no response within the per-request timeout.
	Timeout Condition = iota + 1
	// ConnectionError: the connection failed or was reset before a response.
	ConnectionError
	// Unreadable: a response arrived but its body could not be decoded (truncated,
	// not WBXML, not a FolderSync).
	Unreadable
	// ResetRequested: the server sent X-MS-RP: the client MUST reinitialize its
	// synchronization state (MS-ASHTTP), here by returning to SyncKey 0.
	ResetRequested
	// RequestFailed: the client could not make the request or use the answer for a
	// reason a resend will not fix: a TLS certificate it does not trust, a host
	// that does not exist, a token source that fails, a request it cannot encode.
	// The transport says so by returning an error that is none of the no-answer
	// kinds (transport.ErrTimeout, ErrConnection, ErrUnreadable).
	RequestFailed
)

// Rule is one row of the classification: a code, what the spec says of it, the
// event it fires, and where the spec says so.
type Rule struct {
	Source  Source
	Code    int
	Name    string
	Meaning string
	// Resolution is what the spec tells the client to do, where it says.
	Resolution string
	Event      Event
	// Spec is the section (and page) the facts come from.
	Spec string
}

func (r Rule) String() string {
	name := r.Name
	if name == "" {
		name = r.Meaning
	}
	return fmt.Sprintf("%s %d (%s) -> %s", r.Source, r.Code, name, r.Event)
}

// eventFor is foldersync's decision for every code in statuscodes.tsv.
var eventFor = map[Source]map[int]Event{
	FolderSyncStatus: {
		1: Success, 6: Transient, 9: KeyMismatch, 10: Malformed, 11: Transient, 12: UnknownStatus,
		8: Transient, // legacy: "The request timed out."
	},
	CommonStatus: common(map[Event][]int{
		Malformed:    span(101, 109),
		ServerError:  {110},
		Transient:    {111, 114, 133, 162, 169},
		Denied:       cat([]int{112}, span(123, 131), []int{139, 177}),
		ServerFull:   {113},
		KeyMismatch:  {132, 134, 135, 136},
		NotSupported: {137, 138},
		RemoteWipe:   {140},
		Provision:    span(141, 145),
		Lost:         {149}, // InvalidStoredRequest: "send the full request again"
		Failure: cat(span(115, 122), span(146, 148), span(150, 156), span(160, 161), []int{163},
			span(164, 168), span(170, 176), []int{178, 179, 183, 184}),
	}),
	HTTPStatus: {
		400: Malformed, 401: AuthFailed, 403: Denied, 404: NotSupported, 449: Provision,
		451: Redirect, 456: Denied, 457: PasswordExpired, 500: Transient, 501: NotSupported,
		502: Transient, 503: Throttled, 507: ServerFull,
		200: Success, // a 200 is classified by its body; this row documents the code
	},
}

func cat(lists ...[]int) []int {
	var out []int
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func span(from, to int) []int {
	out := make([]int, 0, to-from+1)
	for c := from; c <= to; c++ {
		out = append(out, c)
	}
	return out
}

func common(m map[Event][]int) map[int]Event {
	out := map[int]Event{}
	for e, codes := range m {
		for _, c := range codes {
			if prev, dup := out[c]; dup {
				panic(fmt.Sprintf("transitions: common status %d mapped to both %v and %v", c, prev, e))
			}
			out[c] = e
		}
	}
	return out
}

// conditionRules are foldersync's own rows: outcomes without a code.
var conditionRules = []Rule{
	{TransportCondition, int(Timeout), "Timeout", "no response within the per-request timeout", "The client MUST resend a synchronization request if there is no immediate server response.", Lost, "MS-ASCMD 3.1.5.9 Handling Status Errors"},
	{TransportCondition, int(ConnectionError), "ConnectionError", "the connection failed before a response", "Resend the identical request; the server either never saw it or replays or re-runs it.", Lost, "MS-ASCMD 3.1.5.9 Handling Status Errors"},
	{TransportCondition, int(Unreadable), "Unreadable", "the response body could not be decoded", "Treat as a lost response and resend the identical request.", Lost, "MS-ASCMD 3.1.5.9 Handling Status Errors"},
	{TransportCondition, int(ResetRequested), "X-MS-RP", "the server asks the client to reinitialize its synchronization state", "The client MUST reinitialize its synchronization state, except for a FolderSync with SyncKey 0.", KeyMismatch, "MS-ASHTTP 2.2.2.1.2.9 X-MS-RP; 3.1.5.1"},
	{TransportCondition, int(RequestFailed), "RequestFailed", "the request could not be made for a reason a resend will not fix", "Fix what the transport's error names (certificate, host name, token source, configuration); resending the same request fails the same way.", Failure, "none (a client-side condition)"},
}

var rulesBy = func() map[Source]map[int]Rule {
	m := map[Source]map[int]Rule{FolderSyncStatus: {}, CommonStatus: {}, HTTPStatus: {}, TransportCondition: {}}
	for _, line := range strings.Split(strings.TrimRight(statusCodesTSV, "\r\n"), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 9 {
			panic("transitions: statuscodes.tsv: a row without 9 fields: " + line)
		}
		code, err := strconv.Atoi(f[1])
		if err != nil {
			panic("transitions: statuscodes.tsv: bad code " + f[1])
		}
		var src Source
		switch f[0] {
		case "foldersync", "legacy":
			src = FolderSyncStatus
		case "common":
			src = CommonStatus
		case "http":
			src = HTTPStatus
		default:
			panic("transitions: statuscodes.tsv: unknown kind " + f[0])
		}
		m[src][code] = Rule{Source: src, Code: code, Name: f[2], Meaning: f[3], Resolution: f[5], Event: eventFor[src][code], Spec: f[7]}
	}
	for _, r := range conditionRules {
		m[TransportCondition][r.Code] = r
	}
	return m
}()

// Rules returns every classification row, by source then code.
func Rules() []Rule {
	var out []Rule
	for _, src := range []Source{FolderSyncStatus, CommonStatus, HTTPStatus, TransportCondition} {
		codes := make([]int, 0, len(rulesBy[src]))
		for c := range rulesBy[src] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			out = append(out, rulesBy[src][c])
		}
	}
	return out
}

// RuleFor returns the classification row of a code, and whether the tables define it.
func RuleFor(src Source, code int) (Rule, bool) {
	r, ok := rulesBy[src][code]
	return r, ok
}

// Outcome is what came back from one request, as the transport reports it.
type Outcome struct {
	// Condition is set when there was no usable response (Timeout, ConnectionError,
	// Unreadable); it takes precedence over everything else.
	Condition Condition
	// HTTPStatus is the HTTP status of the response.
	HTTPStatus int
	// Status is the Status of the FolderSync body (1-99) or a common status
	// (100-999) the server put there, when HTTPStatus is 200.
	Status int
	// ResetRequested is set when the response carried X-MS-RP and the request was
	// not a SyncKey 0 FolderSync.
	ResetRequested bool
}

// Classify turns an outcome into the rule that says what it means and which event
// it fires. Every outcome maps to a defined event: a code no table defines is
// UnknownStatus (or, for HTTP, Transient for 5xx and Failure otherwise), never a panic.
func Classify(o Outcome) Rule {
	switch {
	case o.Condition != 0:
		if r, ok := rulesBy[TransportCondition][int(o.Condition)]; ok {
			return r
		}
		return unknown(TransportCondition, int(o.Condition), UnknownStatus)
	case o.HTTPStatus < 200 || o.HTTPStatus > 299:
		// MS-ASHTTP 3.1.5.1: a 2xx is a successful response, whose body says the
		// rest (a 2xx without a usable body is Unreadable, reported by the session).
		if r, ok := rulesBy[HTTPStatus][o.HTTPStatus]; ok {
			return r
		}
		if o.HTTPStatus >= 500 && o.HTTPStatus <= 599 {
			return unknown(HTTPStatus, o.HTTPStatus, Transient)
		}
		return unknown(HTTPStatus, o.HTTPStatus, Failure)
	case o.ResetRequested:
		return rulesBy[TransportCondition][int(ResetRequested)]
	case o.Status >= 100:
		if r, ok := rulesBy[CommonStatus][o.Status]; ok {
			return r
		}
		return unknown(CommonStatus, o.Status, UnknownStatus)
	default:
		if r, ok := rulesBy[FolderSyncStatus][o.Status]; ok {
			return r
		}
		return unknown(FolderSyncStatus, o.Status, UnknownStatus)
	}
}

func unknown(src Source, code int, e Event) Rule {
	return Rule{Source: src, Code: code, Name: "unknown", Event: e,
		Meaning:    fmt.Sprintf("%s %d is not defined by the specifications foldersync knows", src, code),
		Resolution: "Handled as " + e.String() + "; report it if a server sends it.",
		Spec:       "none"}
}
