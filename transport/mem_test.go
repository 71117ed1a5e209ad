package transport_test

import "runtime"

// runtimeMem reads the cumulative bytes allocated, to bound what one call allocates.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}
