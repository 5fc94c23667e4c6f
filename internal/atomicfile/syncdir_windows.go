//go:build windows

package atomicfile

// syncDir is a no-op on Windows: a directory cannot be opened and flushed
// there, so the rename is as durable as NTFS's own metadata journal makes it.
func syncDir(dir string) error { return nil }
