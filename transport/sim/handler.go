package sim

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// MaxRequestBody is the largest request body a [Handler] reads; a larger one is
// answered with HTTP 413.
const MaxRequestBody = 1 << 20

// Commands the Handler announces in OPTIONS by default: the list Horde ActiveSync
// 2.41 sends (captures/horde/options.resp.headers). Only FolderSync and Provision are
// served; the others are answered with HTTP 501.
var defaultCommands = []string{
	"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment", "GetHierarchy",
	"CreateCollection", "DeleteCollection", "MoveCollection", "FolderSync", "FolderCreate",
	"FolderDelete", "FolderUpdate", "MoveItems", "GetItemEstimate", "MeetingResponse", "Search",
	"Settings", "Ping", "ItemOperations", "Provision", "ResolveRecipients", "ValidateCert",
}

// Status values a Handler answers with (MS-ASPROV 2.2.2.54.1, 2.2.2.54.2; MS-ASCMD 2.2.2).
const (
	provisionOK                = 1
	provisionProtocolError     = 2
	policyNone                 = 2 // no policy for this client
	policyUnknownType          = 3
	policyWrongKey             = 5
	statusDeviceNotProvisioned = 142 // DeviceNotProvisioned, a common status
)

// policyBase is where issued policy keys start: above 2^31, so a client that reads
// a key as a signed 32-bit number shows it (MS-ASPROV 2.2.2.42: an unsigned int).
const policyBase = 3_000_000_000

// HandlerOptions configures a [Handler]. The zero value serves every request
// without authentication, announces every version of ashttp.Versions, and requires
// no policy.
type HandlerOptions struct {
	// Users maps Basic-auth user names to passwords; Tokens maps accepted Bearer
	// tokens to user names. When both are empty no credentials are checked.
	Users  map[string]string
	Tokens map[string]string
	// Versions are the protocol versions announced in OPTIONS
	// (MS-ASProtocolVersions) and accepted in requests; nil means ashttp.Versions.
	Versions []string
	// RequirePolicy makes a FolderSync without the current policy key fail: HTTP 449
	// for protocol versions before 14.0, a FolderSync response with Status 142
	// (DeviceNotProvisioned, MS-ASCMD 2.2.2) from 14.0 on (MS-ASPROV 3.1.5.1,
	// 3.2.5.1). The current key is the final key of the last completed Provision;
	// with NoPolicy none is ever issued, so every FolderSync fails: a server that
	// asks for a policy it never grants, a loop a client must break.
	RequirePolicy bool
	// NoPolicy makes Provision answer Status 1 with Policy Status 2 ("no policy for
	// this client") and no PolicyKey, as SOGo 5.8 does
	// (captures/sogo/provision-1.resp.xml).
	NoPolicy bool
	// RemoteWipe makes every Provision response carry a RemoteWipe element
	// (MS-ASPROV 2.2.2.45), except the answer to a wipe acknowledgement.
	RemoteWipe bool
	// Gzip compresses WBXML response bodies (Content-Encoding: gzip) when the request
	// accepts gzip.
	Gzip bool
	// Now is the clock for the Date header and [Handler.RetryAfterDate]; nil means
	// time.Now.
	Now func() time.Time
}

// HTTPStep is one injected behaviour, for one request (see [Handler.Inject]). The
// zero value serves the request normally. Fields combine: Delay happens first, then
// Reset, Status, Garbage, Oversize or Body replace the answer (in that order of
// precedence), and RetryAfter, Throttle and Location are added to whatever is
// answered.
type HTTPStep struct {
	// Cmd, when set, makes the step wait for a POST of this command (its query's
	// Cmd, e.g. "FolderSync"): requests before it (OPTIONS, a Provision) are served
	// normally and leave it queued. A test can then aim a fault at the next
	// FolderSync whether or not the client probes first.
	Cmd string
	// Status answers this HTTP status with no body instead of serving (0 serves).
	Status int
	// RetryAfter is a Retry-After header value, sent verbatim: seconds ("30") or an
	// HTTP-date ([Handler.RetryAfterDate]).
	RetryAfter string
	// Throttle is an X-MS-ASThrottle header value (MS-ASHTTP 2.2.2.2.1.1).
	Throttle string
	// Location is an X-MS-Location header value, for a 451 (MS-ASHTTP 2.2.2.2.1.2).
	Location string
	// Delay waits this long before answering, or until the request's context ends
	// (the client gave up), in which case nothing is answered.
	Delay time.Duration
	// Reset closes the connection without answering (with SO_LINGER 0 on TCP, so
	// the client sees a connection reset). The request is not served.
	Reset bool
	// Truncate serves the request (the server's state advances, as when a response is
	// lost on the way) but sends only the first half of the body under the full
	// Content-Length, then closes the connection. A response with no body is sent
	// whole.
	Truncate bool
	// Drop serves the request (the server's state advances) and then closes the
	// connection without answering, with a reset as for Reset: the answer is lost
	// on the way, and the client cannot know whether the server applied the request
	// (MS-ASCMD 3.1.5.1, "Handling Status Errors").
	Drop bool
	// Mangle, when not nil, serves the request and sends Mangle(body) in place of
	// the WBXML answer (before any gzip): a damaged byte, say. It is not called for
	// answers without a WBXML body.
	Mangle func(body []byte) []byte
	// Garbage answers 200 with a body that is not WBXML, without serving.
	Garbage bool
	// Oversize answers 200 with a body of this many bytes, without serving: a WBXML
	// header, then SWITCH_PAGE tokens as padding, sent uncompressed.
	Oversize int
	// Body, when not nil, answers 200 with exactly these bytes as a WBXML body,
	// without serving: a hostile or malformed answer (a fuzz input, a truncated
	// capture), to check what a client makes of it.
	Body []byte
	// ResetRequested serves the request and adds X-MS-RP with the Versions list
	// (MS-ASHTTP 2.2.2.1.2.9): the client must reinitialize its sync state.
	ResetRequested bool
	// Commands, when not nil, replaces the MS-ASProtocolCommands an OPTIONS answer
	// announces.
	Commands []string
}

// HTTPExchange is one request as the [Handler] saw it and what it answered.
type HTTPExchange struct {
	// N is the request's number, from 1.
	N int
	// Method is the HTTP method.
	Method string
	// Cmd is the command of the query ("" for OPTIONS or a query that did not parse).
	Cmd string
	// Base64 says the query was in the base64 form (MS-ASHTTP 2.2.1.1.1.1).
	Base64 bool
	// Query is the parsed query, as far as it parsed.
	Query ashttp.Query
	// Version is the protocol version of the request: the base64 query's, else the
	// MS-ASProtocolVersion header.
	Version string
	// PolicyKey is the request's policy key: the base64 query's, else the
	// X-MS-PolicyKey header.
	PolicyKey string
	// User is the authenticated user, "" when credentials are not checked.
	User string
	// HTTPStatus is the status answered; 0 when nothing was (Reset, Drop, or the
	// client left during a Delay).
	HTTPStatus int
	// CommandStatus is the Status of the FolderSync or Provision response body, 0
	// when there was none.
	CommandStatus int
	// SyncKey is the SyncKey of a FolderSync request that decoded.
	SyncKey string
	// RequestID is the sim.Server's RequestID ("sim-N") for a FolderSync it served.
	RequestID string
	// Error is why the request was refused (the text of a 4xx or 5xx body).
	Error string
	// Step is the injected behaviour applied (the zero HTTPStep when none).
	Step HTTPStep
	// Header is a copy of the request headers without Authorization.
	Header http.Header
}

// Handler serves a [Server] over real HTTP as an Exchange ActiveSync endpoint
// (MS-ASHTTP): OPTIONS, and POST with Cmd=FolderSync or Cmd=Provision in the plain or
// base64 query form, with Basic or Bearer authentication, two-phase provisioning
// (MS-ASPROV 3.2.5.1), optional gzip, and injected failures ([Handler.Inject]). It
// is meant for end-to-end tests of an MS-ASHTTP client with net/http/httptest, and
// is safe for concurrent use.
//
// Requests are checked in this order: credentials (401 with a WWW-Authenticate
// challenge), query (400), protocol version (400 when missing or not among
// Versions), command (501 unless FolderSync or Provision), Content-Type (400 unless
// application/vnd.ms-sync.wbxml), body size (413 above MaxRequestBody). A body that
// does not decode gets HTTP 500, as SOGo answers (../shared/servers/sogo/README.md).
// Other methods than OPTIONS and POST get 405. Every answer carries
// MS-Server-ActiveSync.
//
// A FolderSync is served by [Server.FolderSync], so the Server's History logs
// every FolderSync that decoded; [Handler.Exchanges] logs every request.
type Handler struct {
	srv        *Server
	opts       HandlerOptions
	versions   []string
	serverVers string

	mu        sync.Mutex
	steps     []HTTPStep
	exchanges []HTTPExchange
	keySeq    uint32 // policy keys issued
	tempKey   string // the key of the last initial Provision response, until acknowledged
	finalKey  string // the current policy key
	wipeAcked bool
}

// NewHandler returns a Handler serving srv with opts. It panics if srv is nil.
func NewHandler(srv *Server, opts HandlerOptions) *Handler {
	if srv == nil {
		panic("sim: NewHandler with a nil Server")
	}
	h := &Handler{srv: srv, opts: opts, versions: slices.Clone(opts.Versions)}
	if len(h.versions) == 0 {
		h.versions = slices.Clone(ashttp.Versions)
	}
	if h.opts.Now == nil {
		h.opts.Now = time.Now
	}
	// MS-Server-ActiveSync names the highest version the server speaks.
	if known := ashttp.ParseVersions(strings.Join(h.versions, ",")); len(known) > 0 {
		h.serverVers = known[len(known)-1]
	} else {
		h.serverVers = h.versions[len(h.versions)-1]
	}
	return h
}

// Inject queues behaviours for the next requests, in order: each request (OPTIONS
// included, whatever its outcome) takes the first step left, unless that step's
// Cmd names another command; when none is left, normal service resumes.
func (h *Handler) Inject(steps ...HTTPStep) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range steps {
		s.Commands = slices.Clone(s.Commands)
		h.steps = append(h.steps, s)
	}
}

// Uninject drops the steps no request has taken yet and returns how many there
// were: a caller that aimed a step at a request that never came (the client
// failed before sending it) takes it back, so it cannot hit a later one.
func (h *Handler) Uninject() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.steps)
	h.steps = nil
	return n
}

// Exchanges returns a copy of the log of requests, oldest first. An exchange is
// logged before its answer is written, so a client that got an answer finds it here.
func (h *Handler) Exchanges() []HTTPExchange {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]HTTPExchange, len(h.exchanges))
	for i, e := range h.exchanges {
		e.Header = e.Header.Clone()
		e.Step.Commands = slices.Clone(e.Step.Commands)
		out[i] = e
	}
	return out
}

// PolicyKey returns the current policy key: the final key of the last completed
// Provision, "" when none was issued.
func (h *Handler) PolicyKey() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.finalKey
}

// WipeAcknowledged reports whether a client ever sent a remote wipe acknowledgement
// (a Provision request with RemoteWipe or AccountOnlyRemoteWipe Status, MS-ASPROV
// 3.1.5.1.2.2).
func (h *Handler) WipeAcknowledged() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wipeAcked
}

// RetryAfterDate returns the HTTP-date d after the handler's clock (Now), for
// HTTPStep.RetryAfter.
func (h *Handler) RetryAfterDate(d time.Duration) string {
	return h.opts.Now().Add(d).UTC().Format(http.TimeFormat)
}

// answer is what a request gets: status, extra headers, and a body. wbxml bodies
// may be compressed; others are sent as they are.
type answer struct {
	status int
	header http.Header
	body   []byte
	wbxml  bool
	// oversize, when positive, replaces body with that many bytes of padding.
	oversize int
	// cmdStatus is the Status of the command response in body.
	cmdStatus int
	errText   string
}

func errAnswer(status int, format string, args ...any) answer {
	msg := fmt.Sprintf(format, args...)
	return answer{status: status, body: []byte(msg + "\n"), errText: msg,
		header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	var step HTTPStep
	// The query is parsed here only for a step aimed at a command; serve parses it
	// for every request.
	if len(h.steps) > 0 && (h.steps[0].Cmd == "" || h.steps[0].Cmd == requestCmd(r)) {
		step = h.steps[0]
		h.steps = h.steps[1:]
	}
	h.mu.Unlock()

	ex := HTTPExchange{Method: r.Method, Step: step, Header: r.Header.Clone()}
	ex.Header.Del("Authorization")

	// Read the body first: net/http notices a client that left (and ends
	// r.Context()) only once the body has been read.
	body, tooLarge, readErr := readBody(r)

	if step.Delay > 0 {
		t := time.NewTimer(step.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			h.log(&ex)
			return
		}
	}
	if step.Reset {
		h.log(&ex)
		abort(w, true)
		return
	}

	var a answer
	switch {
	case step.Status != 0:
		a = answer{status: step.Status}
	case step.Garbage:
		a = answer{status: http.StatusOK, body: []byte("<html><body>502 Bad Gateway, sorry</body></html>\n"),
			header: http.Header{"Content-Type": {ashttp.ContentTypeWBXML}}}
	case step.Oversize > 0:
		a = answer{status: http.StatusOK, oversize: step.Oversize, header: http.Header{"Content-Type": {ashttp.ContentTypeWBXML}}}
	case step.Body != nil:
		a = answer{status: http.StatusOK, body: step.Body, header: http.Header{"Content-Type": {ashttp.ContentTypeWBXML}}}
	default:
		a = h.serve(r, &ex, step, body, tooLarge, readErr)
	}
	if a.header == nil {
		a.header = http.Header{}
	}
	for name, v := range map[string]string{ashttp.HeaderRetryAfter: step.RetryAfter, ashttp.HeaderThrottle: step.Throttle, ashttp.HeaderLocation: step.Location} {
		if v != "" {
			a.header.Set(name, v)
		}
	}
	if step.Mangle != nil && a.wbxml && len(a.body) > 0 {
		a.body = step.Mangle(bytes.Clone(a.body))
	}
	ex.HTTPStatus, ex.CommandStatus, ex.Error = a.status, a.cmdStatus, a.errText
	if step.Drop {
		ex.HTTPStatus = 0 // served (CommandStatus says how), but nothing is answered
		h.log(&ex)
		abort(w, true)
		return
	}
	h.log(&ex)
	h.write(w, r, a, step)
}

// requestCmd returns the command a POST's query names, "" for other methods and
// for a query that does not parse (which serve then refuses).
func requestCmd(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	q, _, err := ashttp.ParseRequestQuery(r.URL.RawQuery, r.Header.Get(ashttp.HeaderProtocolVersion), r.Header.Get(ashttp.HeaderPolicyKey))
	if err != nil {
		return ""
	}
	return q.Cmd
}

// log appends ex to the exchanges, numbering it.
func (h *Handler) log(ex *HTTPExchange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ex.N = len(h.exchanges) + 1
	h.exchanges = append(h.exchanges, *ex)
}

// readBody reads a POST body up to MaxRequestBody; tooLarge says there was more.
func readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.Body == nil || r.Method != http.MethodPost {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if len(body) > MaxRequestBody {
		return nil, true, nil
	}
	return body, false, err
}

// serve answers a request normally (no injected replacement).
func (h *Handler) serve(r *http.Request, ex *HTTPExchange, step HTTPStep, body []byte, tooLarge bool, readErr error) answer {
	var (
		q        ashttp.Query
		queryErr error
	)
	if r.Method == http.MethodPost {
		q, ex.Base64, queryErr = ashttp.ParseRequestQuery(r.URL.RawQuery, r.Header.Get(ashttp.HeaderProtocolVersion), r.Header.Get(ashttp.HeaderPolicyKey))
		ex.Query, ex.Cmd = q, q.Cmd
		ex.Version, ex.PolicyKey = q.Version, q.PolicyKey
		if queryErr != nil && !ex.Base64 { // the headers are there even if the query is not
			ex.Version, ex.PolicyKey = r.Header.Get(ashttp.HeaderProtocolVersion), r.Header.Get(ashttp.HeaderPolicyKey)
		}
	}
	user, ok, challenges := h.authenticate(r)
	ex.User = user
	if !ok {
		a := errAnswer(http.StatusUnauthorized, "sim: missing or wrong credentials")
		a.header["Www-Authenticate"] = challenges
		return a
	}
	switch r.Method {
	case http.MethodOptions:
		return h.options(step)
	case http.MethodPost:
	default:
		a := errAnswer(http.StatusMethodNotAllowed, "sim: method %s: an ActiveSync endpoint answers OPTIONS and POST", r.Method)
		a.header.Set("Allow", "OPTIONS,POST")
		return a
	}
	if queryErr != nil {
		return errAnswer(http.StatusBadRequest, "sim: bad request line: %v", queryErr)
	}
	switch {
	case q.Version == "":
		return errAnswer(http.StatusBadRequest, "sim: no protocol version: send the %s header (MS-ASHTTP 2.2.1.1.2.6)", ashttp.HeaderProtocolVersion)
	case !slices.Contains(h.versions, q.Version):
		return errAnswer(http.StatusBadRequest, "sim: protocol version %q is not supported; this server speaks %s", q.Version, strings.Join(h.versions, ","))
	case q.Cmd != "FolderSync" && q.Cmd != "Provision":
		return errAnswer(http.StatusNotImplemented, "sim: command %s is not implemented; this server serves FolderSync and Provision", q.Cmd)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !strings.EqualFold(mt, ashttp.ContentTypeWBXML) {
		return errAnswer(http.StatusBadRequest, "sim: Content-Type %q: a command body is %s", r.Header.Get("Content-Type"), ashttp.ContentTypeWBXML)
	}
	switch {
	case tooLarge:
		return errAnswer(http.StatusRequestEntityTooLarge, "sim: request body larger than %d bytes", MaxRequestBody)
	case readErr != nil:
		return errAnswer(http.StatusBadRequest, "sim: reading the request body: %v", readErr)
	}
	var a answer
	if q.Cmd == "Provision" {
		a = h.provision(body)
	} else {
		a = h.folderSync(r, ex, q, body)
	}
	if step.ResetRequested && a.status == http.StatusOK {
		a.header.Set(ashttp.HeaderRP, strings.Join(h.versions, ","))
	}
	return a
}

// authenticate checks the Authorization header against Users and Tokens. It
// returns the user, whether the request may proceed, and the challenges to send
// when it may not.
func (h *Handler) authenticate(r *http.Request) (user string, ok bool, challenges []string) {
	if len(h.opts.Users) == 0 && len(h.opts.Tokens) == 0 {
		return "", true, nil
	}
	auth := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(auth, " ")
	bearerGiven := false
	switch {
	case strings.EqualFold(scheme, "Basic") && len(h.opts.Users) > 0:
		if u, p, okb := r.BasicAuth(); okb {
			if want, known := h.opts.Users[u]; known && subtle.ConstantTimeCompare([]byte(p), []byte(want)) == 1 {
				return u, true, nil
			}
		}
	case strings.EqualFold(scheme, "Bearer") && len(h.opts.Tokens) > 0:
		bearerGiven = true
		tok := strings.TrimSpace(cred)
		for t, u := range h.opts.Tokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				return u, true, nil
			}
		}
	}
	if len(h.opts.Users) > 0 {
		challenges = append(challenges, `Basic realm="sim"`)
	}
	if len(h.opts.Tokens) > 0 {
		c := `Bearer realm="sim"`
		if bearerGiven {
			c += `, error="invalid_token"` // RFC 6750 3.1
		}
		challenges = append(challenges, c)
	}
	return "", false, challenges
}

// options answers OPTIONS (MS-ASHTTP 2.2.3, 2.2.4).
func (h *Handler) options(step HTTPStep) answer {
	cmds := defaultCommands
	if step.Commands != nil {
		cmds = step.Commands
	}
	return answer{status: http.StatusOK, header: http.Header{
		ashttp.HeaderProtocolVersions: {strings.Join(h.versions, ",")},
		ashttp.HeaderProtocolCommands: {strings.Join(cmds, ",")},
		"Allow":                       {"OPTIONS,POST"},
		"Public":                      {"OPTIONS,POST"},
	}}
}

// folderSync serves a FolderSync body through the Server.
func (h *Handler) folderSync(r *http.Request, ex *HTTPExchange, q ashttp.Query, body []byte) answer {
	req, err := transport.UnmarshalFolderSyncRequest(body)
	if err != nil {
		return errAnswer(http.StatusInternalServerError, "sim: unreadable FolderSync body: %v", err)
	}
	ex.SyncKey = req.SyncKey
	if h.opts.RequirePolicy && !h.policyOK(q.PolicyKey) {
		if !ashttp.AtLeast(q.Version, "14.0") {
			return answer{status: 449, errText: "sim: the device must provision (MS-ASPROV 3.1.5.1)"}
		}
		a := wbxmlAnswer(transport.NewStatusResponse(statusDeviceNotProvisioned).MarshalWBXML())
		a.cmdStatus = statusDeviceNotProvisioned
		return a
	}
	reply, err := h.srv.FolderSync(r.Context(), req)
	if err != nil {
		return errAnswer(http.StatusInternalServerError, "sim: %v", err)
	}
	ex.RequestID = reply.RequestID
	if reply.Response == nil {
		return answer{status: reply.HTTPStatus}
	}
	a := wbxmlAnswer(reply.Response.MarshalWBXML())
	a.cmdStatus = reply.Response.Status
	return a
}

func (h *Handler) policyOK(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.finalKey != "" && key == h.finalKey
}

func wbxmlAnswer(b []byte, err error) answer {
	if err != nil {
		return errAnswer(http.StatusInternalServerError, "sim: encode response: %v", err)
	}
	return answer{status: http.StatusOK, body: b, wbxml: true, header: http.Header{"Content-Type": {ashttp.ContentTypeWBXML}}}
}

// provision answers a Provision body (MS-ASPROV 3.2.5.1): an initial request gets a
// temporary key and the policy; the acknowledgement of that key gets the final key.
func (h *Handler) provision(body []byte) answer {
	req, err := transport.UnmarshalProvisionRequest(body)
	if err != nil {
		return errAnswer(http.StatusInternalServerError, "sim: unreadable Provision body: %v", err)
	}
	h.mu.Lock()
	resp := h.provisionLocked(req)
	h.mu.Unlock()
	b, err := resp.MarshalWBXML()
	if err != nil {
		return errAnswer(http.StatusInternalServerError, "sim: encode response: %v", err)
	}
	a := wbxmlAnswer(b, nil)
	a.cmdStatus = resp.Status
	return a
}

// provisionLocked computes a Provision response. Called with h.mu held.
func (h *Handler) provisionLocked(req *transport.ProvisionRequest) *transport.ProvisionResponse {
	if req.RemoteWipeStatus != 0 || req.AccountOnlyRemoteWipeStatus != 0 {
		h.wipeAcked = true
		return &transport.ProvisionResponse{Status: provisionOK}
	}
	resp := &transport.ProvisionResponse{Status: provisionOK, RemoteWipe: h.opts.RemoteWipe}
	switch {
	case req.PolicyType == "":
		// An empty <Provision/>: a client asking whether it must wipe (3.1.5.1.1).
		if !h.opts.RemoteWipe {
			resp.Status = provisionProtocolError
		}
		return resp
	case h.opts.NoPolicy:
		resp.HasPolicy, resp.PolicyType, resp.PolicyStatus = true, req.PolicyType, policyNone
		return resp
	case req.PolicyType != transport.PolicyTypeWBXML && req.PolicyType != transport.PolicyTypeXML:
		resp.HasPolicy, resp.PolicyType, resp.PolicyStatus = true, req.PolicyType, policyUnknownType
		return resp
	}
	resp.HasPolicy, resp.PolicyType = true, req.PolicyType
	if req.PolicyKey == "" || req.PolicyKey == "0" { // the initial request
		h.tempKey = h.newKeyLocked()
		resp.PolicyStatus, resp.PolicyKey = provisionOK, h.tempKey
		resp.Settings = policySettings(req.PolicyType)
		return resp
	}
	if h.tempKey == "" || req.PolicyKey != h.tempKey {
		resp.PolicyStatus = policyWrongKey
		return resp
	}
	// The acknowledgement. A client that could not apply the policy (Status 2-4)
	// still gets the key, as servers that allow non-provisionable devices do.
	h.tempKey, h.finalKey = "", h.newKeyLocked()
	resp.PolicyStatus, resp.PolicyKey = provisionOK, h.finalKey
	return resp
}

func (h *Handler) newKeyLocked() string {
	h.keySeq++
	return strconv.FormatUint(policyBase+uint64(h.keySeq), 10)
}

// policySettings is the policy the handler hands out: a few EASProvisionDoc
// settings (MS-ASPROV 2.2.2.28), or a wap-provisioningdoc for protocol 2.5.
func policySettings(policyType string) []transport.PolicySetting {
	if policyType == transport.PolicyTypeXML {
		return []transport.PolicySetting{{Name: "Data", Value: `<wap-provisioningdoc><characteristic type="SecurityPolicy"><parm name="4131" value="1"/></characteristic></wap-provisioningdoc>`}}
	}
	return []transport.PolicySetting{
		{Name: "DevicePasswordEnabled", Value: "1"},
		{Name: "AlphanumericDevicePasswordRequired", Value: "0"},
		{Name: "MinDevicePasswordLength", Value: "4"},
		{Name: "MaxInactivityTimeDeviceLock", Value: "900"},
		{Name: "AttachmentsEnabled", Value: "1"},
	}
}

// write sends a, applying gzip and Truncate.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, a answer, step HTTPStep) {
	hdr := w.Header()
	for name, v := range a.header {
		hdr[name] = v
	}
	hdr.Set(ashttp.HeaderServerVersion, h.serverVers)
	hdr.Set("Date", h.opts.Now().UTC().Format(http.TimeFormat))
	if a.oversize > 0 {
		hdr.Set("Content-Length", strconv.Itoa(a.oversize))
		w.WriteHeader(a.status)
		writeOversize(w, a.oversize)
		return
	}
	body := a.body
	if a.wbxml && h.opts.Gzip && acceptsGzip(r) {
		body = gzipped(body)
		hdr.Set("Content-Encoding", "gzip")
		hdr.Add("Vary", "Accept-Encoding")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(a.status)
	if step.Truncate && len(body) > 0 {
		_, _ = w.Write(body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		abort(w, false)
		return
	}
	_, _ = w.Write(body)
}

// wbxmlHeader is a WBXML 1.3 header (version 1.3, unknown public id, UTF-8, no
// string table); switchPage7 switches to the FolderHierarchy code page.
var (
	wbxmlHeader = []byte{0x03, 0x01, 0x6a, 0x00}
	switchPage7 = []byte{0x00, 0x07}
)

// writeOversize streams n bytes: the WBXML header, then SWITCH_PAGE tokens.
func writeOversize(w io.Writer, n int) {
	chunk := bytes.Repeat(switchPage7, 16<<10)
	head := wbxmlHeader[:min(n, len(wbxmlHeader))]
	if _, err := w.Write(head); err != nil {
		return
	}
	for left := n - len(head); left > 0; {
		k := min(left, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		left -= k
	}
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip with a
// non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			name, val, _ := strings.Cut(strings.TrimSpace(params), "=")
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && q == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// abort closes the connection under the response without finishing it: hijacked
// and closed (with SO_LINGER 0 when reset, so the peer gets a TCP RST), or, where
// the connection cannot be hijacked (HTTP/2), by aborting the handler.
func abort(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		raw = nc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}
