package voice

// #include <stdlib.h>
import "C"

import "unsafe"

// cfree frees C memory malgo allocated for us (device IDs).
func cfree(p unsafe.Pointer) { C.free(p) }
