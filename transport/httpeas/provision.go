package httpeas

import (
	"context"
	"fmt"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// Provisioner runs the provisioning exchange (MS-ASPROV 3.1.5.1) through send,
// which posts one Provision request with the client's URL, credentials and
// version. It returns what the exchange ended with; the Client keeps the final
// PolicyKey. An error means no usable answer (send's *transport.Error).
type Provisioner interface {
	Provision(ctx context.Context, send SendProvision) (*transport.ProvisionResult, error)
}

// SendProvision posts a Provision request, sending policyKey as the request's
// policy key (X-MS-PolicyKey or the base64 field; "" for none). resp is the
// decoded body of a 200, else nil.
type SendProvision func(ctx context.Context, req *transport.ProvisionRequest, policyKey string) (status int, resp *transport.ProvisionResponse, requestID string, err error)

// TwoPhaseProvisioner is the default Provisioner: download the policy, then
// acknowledge it and keep the final key (MS-ASPROV 3.1.5.1, 4.1). A server with
// no policy for the device (Policy Status 2, or no PolicyType: SOGo 5.8 and Horde
// answer so) ends the exchange without a key, which is not an error. A RemoteWipe
// in either answer ends it at once and is reported, never acknowledged: wiping a
// device is the caller's decision.
type TwoPhaseProvisioner struct {
	// Apply enforces the downloaded policy on the device and returns the status to
	// acknowledge (MS-ASPROV 2.2.2.54.2, client to server: 1 applied, 2 partly
	// applied, 3 not applied, 4 provisioned by a third party). Nil acknowledges 1:
	// a client that enforces no policy should set Apply and report 3 or 2 honestly.
	Apply func(ctx context.Context, policy *transport.ProvisionResponse) (int, error)
}

// Provision implements Provisioner.
func (p TwoPhaseProvisioner) Provision(ctx context.Context, send SendProvision) (*transport.ProvisionResult, error) {
	req := &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML}
	status, resp, id, err := send(ctx, req, "")
	if err != nil {
		return nil, err
	}
	res := &transport.ProvisionResult{HTTPStatus: status, RequestID: id}
	if status != 200 {
		return res, nil
	}
	res.Status, res.PolicyStatus, res.RemoteWipe = resp.Status, resp.PolicyStatus, resp.RemoteWipe
	if resp.RemoteWipe || resp.Status != 1 || resp.NoPolicy() || resp.PolicyStatus != 1 || resp.PolicyKey == "" {
		return res, nil
	}
	ack := 1
	if p.Apply != nil {
		if ack, err = p.Apply(ctx, resp); err != nil {
			return nil, fmt.Errorf("httpeas: applying the provisioned policy: %w", err)
		}
	}
	req = &transport.ProvisionRequest{PolicyType: resp.PolicyType, PolicyKey: resp.PolicyKey, Status: ack}
	if req.PolicyType == "" {
		req.PolicyType = transport.PolicyTypeWBXML
	}
	status, resp, id, err = send(ctx, req, resp.PolicyKey)
	if err != nil {
		return nil, err
	}
	res = &transport.ProvisionResult{HTTPStatus: status, RequestID: id}
	if status != 200 {
		return res, nil
	}
	res.Status, res.PolicyStatus, res.RemoteWipe = resp.Status, resp.PolicyStatus, resp.RemoteWipe
	if !resp.RemoteWipe && resp.Status == 1 && resp.PolicyStatus == 1 {
		res.PolicyKey = resp.PolicyKey
	}
	return res, nil
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
		return &transport.ProvisionResult{HTTPStatus: reply.HTTPStatus, RequestID: reply.RequestID}, nil
	}
	var early *transport.ProvisionResult
	send := func(ctx context.Context, req *transport.ProvisionRequest, key string) (int, *transport.ProvisionResponse, string, error) {
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
			return 0, nil, "", fmt.Errorf("httpeas: encode Provision: %w", err)
		}
		ex, reply, err := c.post(ctx, "Provision", body, key)
		if err != nil {
			return 0, nil, "", err
		}
		if reply != nil {
			early = &transport.ProvisionResult{HTTPStatus: reply.HTTPStatus, RequestID: reply.RequestID}
			return reply.HTTPStatus, nil, reply.RequestID, nil
		}
		if ex.status != 200 {
			return ex.status, nil, ex.id, nil
		}
		if err := checkWBXML(ex); err != nil {
			return 0, nil, "", err
		}
		resp, err := transport.UnmarshalProvisionResponse(ex.body)
		if err != nil {
			return 0, nil, "", &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.status, Cause: err}
		}
		return ex.status, resp, ex.id, nil
	}
	res, err := c.opts.Provisioner.Provision(ctx, send)
	if err != nil {
		return nil, err
	}
	if res == nil && early != nil {
		res = early
	}
	if res != nil && res.PolicyKey != "" {
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
