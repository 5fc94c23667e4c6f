/*
 * bcryptprimitives.dll for Wine 8, tests only: Go's runtime (1.24 and
 * later) takes its random bytes from ProcessPrng in bcryptprimitives.dll,
 * which Wine 8 does not have. This one fills the buffer with RtlGenRandom
 * (advapi32's SystemFunction036), which Wine does have.
 * Built by scripts/test-windows.sh into the test's Wine prefix only.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x10000000 ? 0x10000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
