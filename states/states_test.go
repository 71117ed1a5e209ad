package states_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
)

func TestStates(t *testing.T) {
	cases := []struct {
		s                  states.State
		name               string
		terminal, inFlight bool
	}{
		{states.Idle, "idle", false, false},
		{states.Awaiting, "awaiting", false, true},
		{states.Retrying, "retrying", false, false},
		{states.Resetting, "resetting", false, false},
		{states.Failed, "failed", true, false},
		{states.Synced, "synced", true, false},
	}
	require.Len(t, states.All(), len(cases), "a test row for every state")
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, states.All()[i], c.s, "All lists the states in order")
			assert.True(t, c.s.Valid())
			assert.Equal(t, c.name, c.s.String())
			assert.Equal(t, c.terminal, c.s.Terminal())
			assert.Equal(t, c.inFlight, c.s.RequestInFlight())
			assert.NotEmpty(t, c.s.Description())
			assert.NotEqual(t, "not a state", c.s.Description())

			back, err := states.Parse(c.name)
			require.NoError(t, err)
			assert.Equal(t, c.s, back)
			upper, err := states.Parse("  " + strings.ToUpper(c.name[:1]) + c.name[1:] + " ")
			require.NoError(t, err)
			assert.Equal(t, c.s, upper)
		})
	}
}

func TestZeroAndInvalidStates(t *testing.T) {
	var zero states.State
	assert.False(t, zero.Valid(), "the zero value is not idle")
	for _, s := range []states.State{0, 7, 255} {
		assert.False(t, s.Valid())
		assert.False(t, s.Terminal())
		assert.False(t, s.RequestInFlight())
		assert.Equal(t, "not a state", s.Description())
		_, err := s.MarshalText()
		assert.Error(t, err)
	}
	assert.Equal(t, "State(7)", states.State(7).String())
}

func TestParseError(t *testing.T) {
	_, err := states.Parse("waiting")
	var pe *states.ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "waiting", pe.Name)
	assert.Equal(t, `states: "waiting" is not a state (want one of idle, awaiting, retrying, resetting, failed, synced)`, err.Error())
	_, err = states.Parse("")
	assert.Error(t, err)
}

func TestJSON(t *testing.T) {
	type record struct {
		From, To states.State
	}
	b, err := json.Marshal(record{states.Awaiting, states.Retrying})
	require.NoError(t, err)
	assert.JSONEq(t, `{"From":"awaiting","To":"retrying"}`, string(b))
	var r record
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, record{states.Awaiting, states.Retrying}, r)
	assert.Error(t, json.Unmarshal([]byte(`{"From":"sleeping"}`), &r))
	_, err = json.Marshal(record{})
	assert.Error(t, err, "an unset state is never written")
}

func FuzzParse(f *testing.F) {
	for _, s := range states.All() {
		f.Add(s.String())
	}
	f.Add("")
	f.Add("Idle ")
	f.Fuzz(func(t *testing.T, name string) {
		s, err := states.Parse(name)
		if err != nil {
			var pe *states.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if !s.Valid() {
			t.Fatalf("Parse(%q) gave invalid %v", name, s)
		}
		again, err := states.Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("round trip of %v: %v %v", s, again, err)
		}
	})
}

func ExampleParse() {
	s, err := states.Parse("retrying")
	fmt.Println(s, err, s.Terminal(), s.RequestInFlight())
	_, err = states.Parse("waiting")
	fmt.Println(err)
	// Output:
	// retrying <nil> false false
	// states: "waiting" is not a state (want one of idle, awaiting, retrying, resetting, failed, synced)
}
