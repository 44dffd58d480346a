/*
 * bcryptprimitives.dll for the CI's Wine prefix, exporting ProcessPrng only.
 *
 * Why it exists: since Go 1.22 the runtime of every windows binary takes its random
 * bytes from ProcessPrng in bcryptprimitives.dll, and the loader refuses to start a
 * binary whose import is missing. Wine 8.0 (Debian bookworm) has no such DLL, so Go
 * test binaries would not run under it at all. This one forwards to RtlGenRandom
 * (advapi32's SystemFunction036), which Wine has. .ci/wine/setup builds it with
 * x86_64-w64-mingw32-gcc and copies it into the prefix's system32; it is test
 * tooling, never shipped with gowsk.
 *
 * ProcessPrng is documented to always succeed; the runtime treats FALSE as fatal, which
 * is the right outcome if the generator underneath ever fails.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* RtlGenRandom takes a ULONG length: feed it in chunks. */
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst;
	(void)reason;
	(void)reserved;
	return TRUE;
}
