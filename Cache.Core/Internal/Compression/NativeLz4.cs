using System.Runtime.InteropServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>The few functions of the system's LZ4 library (block format) the cache uses.</summary>
internal static unsafe partial class NativeLz4
{
    /// <summary>The shared library name, as Debian and most Linux distributions install it.</summary>
    public const string LibraryName = "liblz4.so.1";

    /// <summary>Compresses <paramref name="srcSize"/> bytes; returns the compressed size, or 0 on failure.</summary>
    [LibraryImport(LibraryName, EntryPoint = "LZ4_compress_default")]
    public static partial int CompressDefault(byte* src, byte* dst, int srcSize, int dstCapacity);

    /// <summary>Decompresses safely (bounded by <paramref name="dstCapacity"/>); returns the size, or a negative value for malformed input.</summary>
    [LibraryImport(LibraryName, EntryPoint = "LZ4_decompress_safe")]
    public static partial int DecompressSafe(byte* src, byte* dst, int compressedSize, int dstCapacity);

    /// <summary>The largest compressed size for an input of <paramref name="inputSize"/> bytes; 0 when too large.</summary>
    [LibraryImport(LibraryName, EntryPoint = "LZ4_compressBound")]
    public static partial int CompressBound(int inputSize);

    /// <summary>The exports <see cref="NativeLibraryProbe"/> checks before the codec is offered.</summary>
    public static readonly string[] RequiredExports = ["LZ4_compress_default", "LZ4_decompress_safe", "LZ4_compressBound"];
}
