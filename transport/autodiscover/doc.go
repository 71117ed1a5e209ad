// Package autodiscover finds a mailbox's Exchange ActiveSync URL from its e-mail
// address: the Autodiscover command of MS-ASCMD 2.2.1.1 and the client's search
// for an Autodiscover server (MS-OXDISCO 3.1.5).
//
// # The command
//
// An Autodiscover request is XML, not WBXML, sent with Content-Type text/xml
// (MS-ASCMD 2.2.1.1); [MarshalRequest] builds it. The response ([ParseResponse])
// holds, under Response/Action, exactly one of:
//
//   - Settings: one or more Server elements (MS-ASCMD 2.2.3.164); the one of Type
//     MobileSync (2.2.3.186.1) gives the ActiveSync URL;
//   - Redirect: an e-mail address whose domain the client restarts Autodiscover
//     with (MS-ASCMD 2.2.3.147, numbered 2.2.3.148 in some revisions);
//   - Error: Status, Message and DebugData (2.2.3.63, 2.2.3.177.1).
//
// A failure of the Autodiscover framework itself is an Error directly under
// Response, with an ErrorCode: 600 for an invalid request, 601 when no provider
// serves the requested AcceptableResponseSchema (2.2.3.64). Both kinds of error
// come back as a [*ServerError].
//
// # The search
//
// [Discover] tries, for the domain D of the address (MS-OXDISCO 3.1.5.2 to
// 3.1.5.4, in the order Exchange clients use):
//
//  1. POST https://D/autodiscover/autodiscover.xml
//  2. POST https://autodiscover.D/autodiscover/autodiscover.xml
//  3. GET http://autodiscover.D/autodiscover/autodiscover.xml, without
//     credentials, accepting only a redirect to an https URL, which is then
//     POSTed to with credentials (MS-OXDISCO 3.1.5.4)
//  4. the DNS SRV record _autodiscover._tcp.D: POST to
//     https://TARGET:PORT/autodiscover/autodiscover.xml for the record of lowest
//     priority and, among those, highest weight (MS-OXDISCO 3.1.5.3)
//
// A candidate that cannot be reached, times out, answers with an HTTP status other
// than 200, or answers with something that is not an Autodiscover response is
// recorded in [Result.Attempts] and the next one is tried. So is one that
// answers with an Autodiscover error or with settings that cannot be used; that
// answer is reported if no candidate gives settings. An HTTP 401 is remembered
// too ([ErrAuth]). An HTTP 456 or 457 stops the search (MS-ASHTTP 3.1.5.2.4). A
// Redirect restarts the search with the new address. Credentials are never sent
// over plain HTTP, and never appear in an error or in the attempt log.
//
// Options.Endpoints replaces the four steps with a fixed list of URLs (a known
// Autodiscover URL, or a test server).
//
// # Trust
//
// The credentials go to every https candidate, to the https URL that step 3's
// unauthenticated plain-HTTP answer names, to the https target of any HTTP
// redirect, and to the candidates of the domain an Action/Redirect names: that is
// how Autodiscover works, and https only protects them from the network, not from
// a server they should not have gone to. MS-OXDISCO 3.1.5.4 suggests asking the
// user before following step 3's redirect: Options.ConfirmRedirect asks, and
// without it the redirect is followed. A caller
// that knows its Autodiscover URL should give it in Options.Endpoints.
//
// Responses are parsed with limits (Options.MaxResponseBytes, 64 levels of
// nesting, 10,000 XML tokens) and any DOCTYPE is refused, so a hostile server
// cannot make the client spend without bound.
//
// # After Autodiscover
//
// The URL found is where the ActiveSync commands go. MS-ASCMD 2.2.1.1 has the
// client send an HTTP OPTIONS request to that server next, to learn the protocol
// versions and commands it supports (MS-ASHTTP 2.2.3); that is the caller's job
// (transport/httpeas does it on its first request, or with Client.Probe).
// MS-ASHTTP 3.1.5.2.1 and 3.1.5.2.2 say when a client SHOULD run Autodiscover
// again: after an HTTP 401, 403 or 500, and after a 451 without X-MS-Location.
package autodiscover
