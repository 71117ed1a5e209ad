package transport_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/easkit/foldersync/transport"
)

func TestErrorKindsAndCauses(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	err := error(&transport.Error{Err: transport.ErrUnreadable, Cause: cause, HTTPStatus: 200})
	assert.ErrorIs(t, err, transport.ErrUnreadable)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cause stays reachable")
	assert.NotErrorIs(t, err, transport.ErrTimeout)
	assert.Equal(t, "transport: response body unreadable (HTTP 200): unexpected EOF", err.Error())

	var te *transport.Error
	assert.True(t, errors.As(err, &te))
	assert.Equal(t, 200, te.HTTPStatus)

	bare := &transport.Error{Err: transport.ErrTimeout}
	assert.Equal(t, "transport: no response before the timeout", bare.Error())
	assert.ErrorIs(t, bare, transport.ErrTimeout)
}

// A Transport is a one-method interface; a function type can satisfy it in tests.
type transportFunc func(context.Context, *transport.FolderSyncRequest) (*transport.Reply, error)

func (f transportFunc) FolderSync(ctx context.Context, r *transport.FolderSyncRequest) (*transport.Reply, error) {
	return f(ctx, r)
}

func TestTransportInterfaceIsSmall(t *testing.T) {
	var tr transport.Transport = transportFunc(func(ctx context.Context, r *transport.FolderSyncRequest) (*transport.Reply, error) {
		return &transport.Reply{HTTPStatus: 200, Response: transport.NewStatusResponse(9)}, nil
	})
	rep, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "5"})
	assert.NoError(t, err)
	assert.Equal(t, 9, rep.Response.Status)
}
