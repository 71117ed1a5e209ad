package transitions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
)

// Validate must catch every kind of unsound table, not only pass the real one.
func TestValidateCatchesUnsoundTables(t *testing.T) {
	without := func(pred func(Row) bool) []Row {
		var out []Row
		for _, r := range rows {
			if !pred(r) {
				out = append(out, r)
			}
		}
		return out
	}
	with := func(extra ...Row) []Row { return append(append([]Row(nil), rows...), extra...) }
	cases := []struct {
		name string
		rows []Row
		rej  []rejection
		want string
	}{
		{"duplicate pair", with(Row{states.Idle, Start, states.Failed, "", 0, "again"}), rejections, "(idle, start) is defined twice"},
		{"unhandled pair", without(func(r Row) bool { return r.From == states.Awaiting && r.Event == Redirect }), rejections, "(awaiting, redirect) is neither handled nor rejected"},
		{"handled and rejected", with(Row{states.Idle, Success, states.Synced, "", 0, "x"}), rejections, "(idle, success) is both handled and rejected"},
		{"terminal with a transition", with(Row{states.Synced, Start, states.Awaiting, "", 0, "x"}), rejections, "terminal state synced has a transition on start"},
		{"guard without else", with(Row{states.Retrying, Verify, states.Resetting, ResetAllowed, 0, "x"}), nil, "a guard needs an Else event"},
		{"else not handled", func() []Row {
			rs := without(func(r Row) bool { return r.From == states.Awaiting && r.Event == Reset })
			return append(rs, Row{states.Retrying, Reset, states.Resetting, "", 0, "x"})
		}(), rejections, "its Else event reset is not handled in awaiting"},
		{"resetting unreachable", without(func(r Row) bool { return r.To == states.Resetting }), nil, "state resetting is not reachable from idle"},
		{"synced unreachable from retrying", without(func(r Row) bool { return r.Event == BackoffElapsed }), nil, "synced is not reachable from retrying"},
		{"row without why", with(Row{states.Retrying, Verify, states.Resetting, "", 0, ""}), nil, "says nothing about why"},
		{"invalid state", with(Row{0, Start, states.Awaiting, "", 0, "x"}), rejections, "names an invalid state"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validate(c.rows, c.rej)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	require.NoError(t, validate(rows, rejections))
}
