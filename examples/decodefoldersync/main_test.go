package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
)

func TestDecodesRealCapture(t *testing.T) {
	var out bytes.Buffer
	path := filepath.Join(testutil.SharedDir(t), "captures", "horde", "foldersync-after-delete.resp.wbxml")
	require.NoError(t, run(path, &out))
	assert.Equal(t, "Status 1, SyncKey \"{6b022350-0a48-4d52-99bd-209b7f000001}2\", 1 changes\n  Delete F57e8a990\n", out.String())
}

func TestReportsWhereABodyIsWrong(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wbxml")
	// A FolderSync whose Add has Type 42.
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x4C, 0x03, '1', 0x00, 0x01, 0x4E, 0x4F,
		0x48, 0x03, 'a', 0x00, 0x01, 0x49, 0x03, '0', 0x00, 0x01, 0x47, 0x03, 'n', 0x00, 0x01,
		0x4A, 0x03, '4', '2', 0x00, 0x01, 0x01, 0x01, 0x01}
	require.NoError(t, os.WriteFile(bad, body, 0o644))
	err := run(bad, &bytes.Buffer{})
	require.Error(t, err)
	assert.Equal(t, "not a valid FolderSync response: FolderSync/Changes/Add[1]/Type at byte 29: not a folder type: MS-ASCMD 2.2.3.186.3 defines 1-19", err.Error())

	require.NoError(t, os.WriteFile(bad, body[:20], 0o644))
	err = run(bad, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not valid WBXML at byte 20")
}
