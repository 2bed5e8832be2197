using System.Runtime.InteropServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The few functions of the system's Zstandard library the cache uses.</summary>
internal static unsafe partial class NativeZstd
{
    /// <summary>The shared library name, as Debian and most Linux distributions install it.</summary>
    public const string LibraryName = "libzstd.so.1";

    /// <summary>Allocates a compression context (reused across calls; creating one per call costs more than small inputs).</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCCtx();

    /// <summary>Frees a compression context.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCCtx(nint cctx);

    /// <summary>Allocates a decompression context.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_createDCtx")]
    public static partial nint CreateDCtx();

    /// <summary>Frees a decompression context.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDCtx(nint dctx);

    /// <summary>Compresses one frame with a context; returns the size or an error code (see <see cref="IsError"/>).</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_compressCCtx")]
    public static partial nuint CompressCCtx(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

    /// <summary>Decompresses frames with a context, bounded by <paramref name="dstCapacity"/>; returns the size or an error code.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_decompressDCtx")]
    public static partial nuint DecompressDCtx(nint dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    /// <summary>The largest compressed size for an input of <paramref name="srcSize"/> bytes.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint srcSize);

    /// <summary>Non-zero when a returned size is an error code.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    /// <summary>The exports <see cref="NativeLibraryProbe"/> checks before the codec is offered.</summary>
    public static readonly string[] RequiredExports =
    [
        "ZSTD_createCCtx", "ZSTD_freeCCtx", "ZSTD_createDCtx", "ZSTD_freeDCtx",
        "ZSTD_compressCCtx", "ZSTD_decompressDCtx", "ZSTD_compressBound", "ZSTD_isError",
    ];
}
