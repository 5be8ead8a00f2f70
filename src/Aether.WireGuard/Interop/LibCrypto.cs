using System.Runtime.InteropServices;

namespace Aether.WireGuard.Interop;

/// <summary>
/// The few OpenSSL 3 (<c>libcrypto.so.3</c>) entry points X25519 needs. The library is the system's own (.NET loads
/// it anyway for its cryptography); nothing else in this project calls native crypto.
/// </summary>
internal static unsafe partial class LibCrypto
{
    /// <summary><c>EVP_PKEY_X25519</c> (<c>NID_X25519</c>).</summary>
    public const int EvpPkeyX25519 = 1034;

    private const string Lib = "libcrypto.so.3";

    /// <summary><c>EVP_PKEY *EVP_PKEY_new_raw_private_key(int type, ENGINE *e, const unsigned char *key, size_t keylen)</c>.</summary>
    [LibraryImport(Lib, EntryPoint = "EVP_PKEY_new_raw_private_key")]
    public static partial nint NewRawPrivateKey(int type, nint engine, byte* key, nuint keyLength);

    /// <summary><c>int EVP_PKEY_get_raw_public_key(const EVP_PKEY *pkey, unsigned char *pub, size_t *len)</c>.</summary>
    [LibraryImport(Lib, EntryPoint = "EVP_PKEY_get_raw_public_key")]
    public static partial int GetRawPublicKey(nint pkey, byte* publicKey, nuint* length);

    /// <summary><c>void EVP_PKEY_free(EVP_PKEY *pkey)</c>.</summary>
    [LibraryImport(Lib, EntryPoint = "EVP_PKEY_free")]
    public static partial void FreeKey(nint pkey);

    /// <summary><c>unsigned long ERR_get_error(void)</c>: the oldest error on this thread's queue, removed from it.</summary>
    [LibraryImport(Lib, EntryPoint = "ERR_get_error")]
    public static partial nuint GetError();

    /// <summary><c>void ERR_error_string_n(unsigned long e, char *buf, size_t len)</c>.</summary>
    [LibraryImport(Lib, EntryPoint = "ERR_error_string_n")]
    public static partial void ErrorString(nuint error, byte* buffer, nuint length);

    /// <summary>OpenSSL's text for the oldest error queued on this thread (and clears the queue), or a fallback.</summary>
    public static string LastError()
    {
        var error = GetError();
        while (GetError() != 0)
        {
        }

        if (error == 0)
        {
            return "no error queued";
        }

        var buffer = stackalloc byte[256];
        ErrorString(error, buffer, 256);
        return Marshal.PtrToStringUTF8((nint)buffer) ?? "unknown error";
    }
}
