package httpeas

import (
	"context"
	"errors"
	"fmt"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// Provisioner runs the provisioning exchange (MS-ASPROV 3.1.5.1) through send,
// which posts one Provision request with the client's URL, credentials and
// version. It returns what the exchange ended with; the Client keeps the final
// PolicyKey. An error means no usable answer (send's *transport.Error), or a
// failure a resend cannot fix.
type Provisioner interface {
	Provision(ctx context.Context, send SendProvision) (*transport.ProvisionResult, error)
}

// SendProvision posts a Provision request, sending policyKey as the request's
// policy key (X-MS-PolicyKey or the base64 field; "" for none).
type SendProvision func(ctx context.Context, req *transport.ProvisionRequest, policyKey string) (*ProvisionAnswer, error)

// ProvisionAnswer is the server's answer to one Provision request: the HTTP status
// and recovery headers (Reply, whose Response is nil), and the decoded body of a
// 200.
type ProvisionAnswer struct {
	Reply    *transport.Reply
	Response *transport.ProvisionResponse
}

// Acknowledge statuses a client sends for a downloaded policy (MS-ASPROV
// 2.2.2.54.2, client to server).
const (
	PolicyApplied        = 1
	PolicyPartlyApplied  = 2
	PolicyNotApplied     = 3
	PolicyThirdPartyMgmt = 4
)

// TwoPhaseProvisioner is the default Provisioner: download the policy, then
// acknowledge it and keep the final key (MS-ASPROV 3.1.5.1, 4.1). A server with
// no policy for the device (Policy Status 2, or no PolicyType: SOGo 5.8 and Horde
// answer so) ends the exchange without a key, which is not an error. A RemoteWipe
// or AccountOnlyRemoteWipe in either answer ends it at once and is reported, never
// acknowledged: wiping a device is the caller's decision.
type TwoPhaseProvisioner struct {
	// Apply enforces the downloaded policy on the device and returns the status to
	// acknowledge (PolicyApplied, PolicyPartlyApplied, PolicyNotApplied,
	// PolicyThirdPartyMgmt). Nil acknowledges PolicyNotApplied: foldersync itself
	// enforces nothing (no PIN, no encryption), and telling the server otherwise
	// would be a lie. A server that requires the policy may then refuse the device;
	// a client that enforces the settings sets Apply and reports what it did.
	Apply func(ctx context.Context, policy *transport.ProvisionResponse) (int, error)
}

// Provision implements Provisioner.
func (p TwoPhaseProvisioner) Provision(ctx context.Context, send SendProvision) (*transport.ProvisionResult, error) {
	ans, err := send(ctx, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML}, "")
	if err != nil {
		return nil, err
	}
	res, resp := result(ans)
	if resp == nil || resp.RemoteWipe || resp.AccountOnlyRemoteWipe || resp.Status != 1 || resp.NoPolicy() || resp.PolicyStatus != 1 || resp.PolicyKey == "" {
		return res, nil
	}
	ack := PolicyNotApplied
	if p.Apply != nil {
		if ack, err = p.Apply(ctx, resp); err != nil {
			return nil, fmt.Errorf("httpeas: applying the provisioned policy: %w", err)
		}
	}
	req := &transport.ProvisionRequest{PolicyType: resp.PolicyType, PolicyKey: resp.PolicyKey, Status: ack}
	if req.PolicyType == "" {
		req.PolicyType = transport.PolicyTypeWBXML
	}
	if ans, err = send(ctx, req, resp.PolicyKey); err != nil {
		return nil, err
	}
	res, resp = result(ans)
	if resp != nil && !resp.RemoteWipe && !resp.AccountOnlyRemoteWipe && resp.Status == 1 && resp.PolicyStatus == 1 {
		res.PolicyKey = resp.PolicyKey
	}
	return res, nil
}

// result is the ProvisionResult of one answer (without a policy key), and its
// decoded body when it was a 200.
func result(ans *ProvisionAnswer) (*transport.ProvisionResult, *transport.ProvisionResponse) {
	r := ans.Reply
	res := &transport.ProvisionResult{HTTPStatus: r.HTTPStatus, RetryAfter: r.RetryAfter, HasRetryAfter: r.HasRetryAfter,
		Throttle: r.Throttle, RequestID: r.RequestID}
	resp := ans.Response
	if r.HTTPStatus != 200 || resp == nil {
		return res, nil
	}
	res.Status, res.PolicyStatus = resp.Status, resp.PolicyStatus
	res.RemoteWipe, res.AccountOnlyRemoteWipe = resp.RemoteWipe, resp.AccountOnlyRemoteWipe
	return res, resp
}

// Provision implements [transport.Provisioner]: run the Provisioner and keep the
// final policy key for every later request. The session calls it only after the
// server asked (HTTP 449 or Status 141-144).
func (c *Client) Provision(ctx context.Context) (*transport.ProvisionResult, error) {
	// The request's shape depends on the version (PolicyType, DeviceInformation):
	// negotiate first.
	if reply, err := c.ensureVersion(ctx); reply != nil || err != nil {
		if err != nil {
			return nil, err
		}
		res, _ := result(&ProvisionAnswer{Reply: reply})
		return res, nil
	}
	send := func(ctx context.Context, req *transport.ProvisionRequest, key string) (*ProvisionAnswer, error) {
		version := c.versionOrDefault()
		if !ashttp.AtLeast(version, "12.0") {
			req.PolicyType = transport.PolicyTypeXML // MS-ASPROV 2.2.2.43: 2.5 uses the XML policy format
		}
		if ashttp.AtLeast(version, "14.1") && req.PolicyKey == "" && len(req.DeviceInformation) == 0 {
			// MS-ASPROV 3.1.5.1.1: from 14.1 the initial request carries the
			// settings:DeviceInformation element.
			req.DeviceInformation = []transport.PolicySetting{{Name: "Model", Value: c.opts.DeviceType}, {Name: "UserAgent", Value: c.opts.UserAgent}}
		}
		body, err := req.MarshalWBXML()
		if err != nil {
			return nil, fmt.Errorf("httpeas: encode Provision: %w", err)
		}
		ex, early, err := c.post(ctx, "Provision", body, key)
		if err != nil {
			return nil, err
		}
		if early != nil {
			return &ProvisionAnswer{Reply: early}, nil
		}
		reply, err := c.reply(ctx, ex, true)
		if err != nil {
			return nil, err
		}
		ans := &ProvisionAnswer{Reply: reply}
		if ex.status != 200 {
			return ans, nil
		}
		if err := checkWBXML(ex); err != nil {
			return nil, err
		}
		if ans.Response, err = transport.UnmarshalProvisionResponse(ex.body); err != nil {
			return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.status, Cause: err}
		}
		return ans, nil
	}
	res, err := c.opts.Provisioner.Provision(ctx, send)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("httpeas: the Provisioner returned neither a result nor an error")
	}
	if res.PolicyKey != "" {
		c.mu.Lock()
		c.policyKey = res.PolicyKey
		c.mu.Unlock()
	}
	return res, nil
}

func (c *Client) versionOrDefault() string {
	if v := c.ProtocolVersion(); v != "" {
		return v
	}
	return "14.1"
}
