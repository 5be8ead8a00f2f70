using System.Runtime.InteropServices;

namespace Aether.Nftables.Interop;

/// <summary>
/// The entry points of libnftables (<c>nftables/libnftables.h</c>), the library <c>nft</c> itself is built on
/// (Debian package <c>libnftables1</c>). Only the handful needed to run a command buffer and collect its output.
/// </summary>
internal static partial class Libnftables
{
    /// <summary>The library's SONAME.</summary>
    public const string Lib = "libnftables.so.1";

    /// <summary><c>NFT_CTX_DEFAULT</c>: a context that opens its netlink socket at creation.</summary>
    public const uint NFT_CTX_DEFAULT = 0;

    /// <summary><c>NFT_CTX_OUTPUT_STATELESS</c>: counters and quotas printed without their values.</summary>
    public const uint NFT_CTX_OUTPUT_STATELESS = 1 << 2;

    /// <summary><c>NFT_CTX_OUTPUT_ECHO</c>: the commands printed back as the kernel made them (with handles).</summary>
    public const uint NFT_CTX_OUTPUT_ECHO = 1 << 5;

    /// <summary><c>NFT_CTX_OUTPUT_JSON</c>: JSON output, and JSON input tried first.</summary>
    public const uint NFT_CTX_OUTPUT_JSON = 1 << 4;

    /// <summary>The context handle, freed with <c>nft_ctx_free</c>.</summary>
    public sealed class SafeContextHandle : SafeHandle
    {
        /// <summary>Creates an empty handle (the marshaller fills it in).</summary>
        public SafeContextHandle()
            : base(0, ownsHandle: true)
        {
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == 0;

        /// <inheritdoc/>
        protected override bool ReleaseHandle()
        {
            nft_ctx_free(handle);
            return true;
        }
    }

    [LibraryImport(Lib)]
    public static partial SafeContextHandle nft_ctx_new(uint flags);

    [LibraryImport(Lib)]
    public static partial void nft_ctx_free(nint ctx);

    [LibraryImport(Lib)]
    public static partial void nft_ctx_output_set_flags(SafeContextHandle ctx, uint flags);

    [LibraryImport(Lib)]
    public static partial void nft_ctx_set_dry_run(SafeContextHandle ctx, [MarshalAs(UnmanagedType.U1)] bool dry);

    [LibraryImport(Lib)]
    public static partial int nft_ctx_buffer_output(SafeContextHandle ctx);

    [LibraryImport(Lib)]
    public static partial int nft_ctx_buffer_error(SafeContextHandle ctx);

    /// <summary>Returns the output collected since the last call and rewinds the buffer: the pointer is the
    /// library's, valid until the next command.</summary>
    [LibraryImport(Lib)]
    public static partial nint nft_ctx_get_output_buffer(SafeContextHandle ctx);

    /// <summary>Like <see cref="nft_ctx_get_output_buffer"/>, for error messages.</summary>
    [LibraryImport(Lib)]
    public static partial nint nft_ctx_get_error_buffer(SafeContextHandle ctx);

    /// <summary>Parses, evaluates and runs a command buffer; 0 on success. The commands of one buffer go to the
    /// kernel as one nf_tables transaction (a batch): all of them or none.</summary>
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nft_run_cmd_from_buffer(SafeContextHandle ctx, string buffer);
}
