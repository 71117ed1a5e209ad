package wbxml

// Limits bound what a Decoder accepts, so hostile input cannot make it allocate or
// recurse without bound. A zero field means "use the default"; to lift a limit set it
// to a very large value. Every limit is checked before the memory is allocated.
type Limits struct {
	// MaxDepth is the deepest element nesting accepted. ActiveSync documents nest
	// about 10 deep (Sync > Collections > Collection > Commands > Add > ApplicationData
	// > Body ...). Default 64.
	MaxDepth int
	// MaxDocumentSize is the largest document, header included, in bytes. A FolderSync
	// of 100,000 folders is about 9 MB. Default 64 MiB.
	MaxDocumentSize int64
	// MaxStringLength is the longest inline string (STR_I) in bytes. Email bodies can
	// travel inline. Default 16 MiB.
	MaxStringLength int
	// MaxOpaqueLength is the longest OPAQUE value in bytes (attachments, MIME). Default 32 MiB.
	MaxOpaqueLength int
	// MaxStringTableSize is the largest string table in bytes. Default 1 MiB.
	MaxStringTableSize int
}

// DefaultLimits are the limits a zero Limits stands for.
var DefaultLimits = Limits{
	MaxDepth:           64,
	MaxDocumentSize:    64 << 20,
	MaxStringLength:    16 << 20,
	MaxOpaqueLength:    32 << 20,
	MaxStringTableSize: 1 << 20,
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxDocumentSize <= 0 {
		l.MaxDocumentSize = DefaultLimits.MaxDocumentSize
	}
	if l.MaxStringLength <= 0 {
		l.MaxStringLength = DefaultLimits.MaxStringLength
	}
	if l.MaxOpaqueLength <= 0 {
		l.MaxOpaqueLength = DefaultLimits.MaxOpaqueLength
	}
	if l.MaxStringTableSize <= 0 {
		l.MaxStringTableSize = DefaultLimits.MaxStringTableSize
	}
	return l
}
