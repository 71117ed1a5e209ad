package transport

import "fmt"

// FolderType is the type of a folder in a FolderSync response (MS-ASCMD 2.2.3.186.3).
type FolderType uint8

// Folder types, MS-ASCMD 2.2.3.186.3. Types 2-11 and 19 are the default folders.
const (
	FolderUserGeneric    FolderType = 1
	FolderInbox          FolderType = 2
	FolderDrafts         FolderType = 3
	FolderDeletedItems   FolderType = 4
	FolderSentItems      FolderType = 5
	FolderOutbox         FolderType = 6
	FolderTasks          FolderType = 7
	FolderCalendar       FolderType = 8
	FolderContacts       FolderType = 9
	FolderNotes          FolderType = 10
	FolderJournal        FolderType = 11
	FolderUserMail       FolderType = 12
	FolderUserCalendar   FolderType = 13
	FolderUserContacts   FolderType = 14
	FolderUserTasks      FolderType = 15
	FolderUserJournal    FolderType = 16
	FolderUserNotes      FolderType = 17
	FolderUnknown        FolderType = 18
	FolderRecipientCache FolderType = 19
	minFolderType                   = FolderUserGeneric
	maxFolderType                   = FolderRecipientCache
)

var folderTypeNames = [...]string{
	FolderUserGeneric:    "user-created folder (generic)",
	FolderInbox:          "Inbox",
	FolderDrafts:         "Drafts",
	FolderDeletedItems:   "Deleted Items",
	FolderSentItems:      "Sent Items",
	FolderOutbox:         "Outbox",
	FolderTasks:          "Tasks",
	FolderCalendar:       "Calendar",
	FolderContacts:       "Contacts",
	FolderNotes:          "Notes",
	FolderJournal:        "Journal",
	FolderUserMail:       "user-created mail folder",
	FolderUserCalendar:   "user-created calendar folder",
	FolderUserContacts:   "user-created contacts folder",
	FolderUserTasks:      "user-created tasks folder",
	FolderUserJournal:    "user-created journal folder",
	FolderUserNotes:      "user-created notes folder",
	FolderUnknown:        "unknown folder type",
	FolderRecipientCache: "recipient information cache",
}

// Valid reports whether t is one of the types MS-ASCMD 2.2.3.186.3 defines (1-19).
func (t FolderType) Valid() bool { return t >= minFolderType && t <= maxFolderType }

// IsDefault reports whether t is a default folder (types 2-11 and 19).
func (t FolderType) IsDefault() bool {
	return t >= FolderInbox && t <= FolderJournal || t == FolderRecipientCache
}

func (t FolderType) String() string {
	if t.Valid() {
		return folderTypeNames[t]
	}
	return fmt.Sprintf("FolderType(%d)", uint8(t))
}
