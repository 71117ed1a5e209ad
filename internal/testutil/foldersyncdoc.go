package testutil

import (
	"fmt"
	"math/rand"
	"strconv"

	"github.com/easkit/foldersync/wbxml"
)

// FolderHierarchy tags, looked up once.
var (
	tFolderSync  = wbxml.MustTag("FolderHierarchy", "FolderSync")
	tStatus      = wbxml.MustTag("FolderHierarchy", "Status")
	tSyncKey     = wbxml.MustTag("FolderHierarchy", "SyncKey")
	tChanges     = wbxml.MustTag("FolderHierarchy", "Changes")
	tCount       = wbxml.MustTag("FolderHierarchy", "Count")
	tAdd         = wbxml.MustTag("FolderHierarchy", "Add")
	tUpdate      = wbxml.MustTag("FolderHierarchy", "Update")
	tDelete      = wbxml.MustTag("FolderHierarchy", "Delete")
	tServerID    = wbxml.MustTag("FolderHierarchy", "ServerId")
	tParentID    = wbxml.MustTag("FolderHierarchy", "ParentId")
	tDisplayName = wbxml.MustTag("FolderHierarchy", "DisplayName")
	tType        = wbxml.MustTag("FolderHierarchy", "Type")
)

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
	changes := wbxml.NewElement(tChanges, wbxml.NewTextElement(tCount, strconv.Itoa(n)))
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
		op := tAdd
		if mixed {
			switch rng.Intn(4) {
			case 0:
				op = tUpdate
			case 1:
				changes.Children = append(changes.Children, wbxml.NewElement(tDelete, wbxml.NewTextElement(tServerID, id)))
				continue
			}
		}
		changes.Children = append(changes.Children, wbxml.NewElement(op,
			wbxml.NewTextElement(tServerID, id),
			wbxml.NewTextElement(tParentID, parent),
			wbxml.NewTextElement(tDisplayName, name),
			wbxml.NewTextElement(tType, typ),
		))
	}
	return wbxml.NewElement(tFolderSync,
		wbxml.NewTextElement(tStatus, "1"),
		wbxml.NewTextElement(tSyncKey, fmt.Sprintf("{%08x-sync}%d", rng.Uint32(), seed)),
		changes,
	)
}

// FolderSyncShapes returns the FolderSync documents of every shape MS-ASCMD 2.2.1.5
// allows: requests (initial key 0, a later key, an empty key) and responses (initial
// sync, no changes, each change kind, a mix, and every non-success status).
func FolderSyncShapes() map[string]*wbxml.Node {
	req := func(key string) *wbxml.Node {
		return wbxml.NewElement(tFolderSync, wbxml.NewTextElement(tSyncKey, key))
	}
	status := func(code string) *wbxml.Node {
		return wbxml.NewElement(tFolderSync, wbxml.NewTextElement(tStatus, code))
	}
	noChange := wbxml.NewElement(tFolderSync,
		wbxml.NewTextElement(tStatus, "1"),
		wbxml.NewTextElement(tSyncKey, "2"),
		wbxml.NewElement(tChanges, wbxml.NewTextElement(tCount, "0")))
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
