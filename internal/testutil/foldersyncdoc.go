package testutil

import (
	"fmt"
	"math/rand"
	"strconv"
	"testing"

	"github.com/easkit/foldersync/wbxml"
)

// fh is the FolderHierarchy tag of that name (MS-ASWBXML code page 7).
func fh(name string) wbxml.Tag { return wbxml.MustTag("FolderHierarchy", name) }

// displayNames mixes ASCII, Latin, CJK, right-to-left, emoji, markup characters and
// edge whitespace: what real mailboxes contain and what XML escaping must survive.
var displayNames = []string{
	"Inbox", "Posteingang", "Éléments envoyés", "Черновики", "受信トレイ", "收件箱",
	"البريد الوارد", "דואר נכנס", "📁 Projects 🚀", "R&D <2026>", `"quoted" 'single'`,
	"  leading and trailing  ", "tab\tinside", "Ünïcödé Ñame", "Σύνολο", "ไทย",
}

// FolderSyncTree returns a FolderSync response with n changes, deterministic for a
// seed. With mixed false every change is an Add (an initial sync); with mixed true it
// also has Updates and Deletes. Folders nest under earlier ones and use all Types 1-19.
func FolderSyncTree(n int, seed int64, mixed bool) *wbxml.Node {
	rng := rand.New(rand.NewSource(seed))
	changes := wbxml.NewElement(fh("Changes"), wbxml.NewTextElement(fh("Count"), strconv.Itoa(n)))
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		// ServerIds shaped like SOGo's (captures/sogo): "mail%2F" and 32 hex digits.
		id := fmt.Sprintf("mail%%2F%08x%08x%016x", i, rng.Uint32(), rng.Uint64())
		ids = append(ids, id)
		parent := "0"
		if i > 0 && rng.Intn(3) > 0 {
			parent = ids[rng.Intn(i)]
		}
		name := displayNames[rng.Intn(len(displayNames))]
		if rng.Intn(2) == 0 {
			name = fmt.Sprintf("%s %d", name, i)
		}
		typ := strconv.Itoa(1 + i%19)
		op := fh("Add")
		if mixed {
			switch rng.Intn(4) {
			case 0:
				op = fh("Update")
			case 1:
				changes.Children = append(changes.Children, wbxml.NewElement(fh("Delete"), wbxml.NewTextElement(fh("ServerId"), id)))
				continue
			}
		}
		changes.Children = append(changes.Children, wbxml.NewElement(op,
			wbxml.NewTextElement(fh("ServerId"), id),
			wbxml.NewTextElement(fh("ParentId"), parent),
			wbxml.NewTextElement(fh("DisplayName"), name),
			wbxml.NewTextElement(fh("Type"), typ),
		))
	}
	return wbxml.NewElement(fh("FolderSync"),
		wbxml.NewTextElement(fh("Status"), "1"),
		wbxml.NewTextElement(fh("SyncKey"), fmt.Sprintf("{%08x-sync}%d", rng.Uint32(), seed)),
		changes,
	)
}

// FolderSyncShapes returns the FolderSync documents of every shape MS-ASCMD 2.2.1.5
// allows: requests (initial key 0, a later key, an empty key) and responses (initial
// sync, no changes, each change kind, a mix, and every non-success status).
func FolderSyncShapes() map[string]*wbxml.Node {
	req := func(key string) *wbxml.Node {
		return wbxml.NewElement(fh("FolderSync"), wbxml.NewTextElement(fh("SyncKey"), key))
	}
	status := func(code string) *wbxml.Node {
		return wbxml.NewElement(fh("FolderSync"), wbxml.NewTextElement(fh("Status"), code))
	}
	noChange := wbxml.NewElement(fh("FolderSync"),
		wbxml.NewTextElement(fh("Status"), "1"),
		wbxml.NewTextElement(fh("SyncKey"), "2"),
		wbxml.NewElement(fh("Changes"), wbxml.NewTextElement(fh("Count"), "0")))
	shapes := map[string]*wbxml.Node{
		"request-initial":   req("0"),
		"request-next":      req("{6b022350-8c8c-4210-9f88-20997f000001}1"),
		"request-emptykey":  req(""),
		"response-nochange": noChange,
		"response-initial":  FolderSyncTree(13, 1, false),
		"response-mixed":    FolderSyncTree(40, 2, true),
		"response-unicode":  FolderSyncTree(len(displayNames), 3, false),
	}
	for _, code := range []string{"6", "9", "10", "11", "12", "110", "126", "140", "142"} {
		shapes["response-status-"+code] = status(code)
	}
	return shapes
}

// FolderSyncBody is FolderSyncTree encoded as WBXML: the body benchmarks decode.
func FolderSyncBody(tb testing.TB, n int, seed int64, mixed bool) []byte {
	tb.Helper()
	body, err := wbxml.Marshal(FolderSyncTree(n, seed, mixed))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}
