using System.Runtime.InteropServices;

namespace OptimizedCache.Cache.Core.Internal;

/// <summary>
/// Checks that a native library loads and exports what a codec calls, before any <c>LibraryImport</c> stub
/// runs: a missing library then makes the codec unavailable instead of throwing
/// <see cref="DllNotFoundException"/> on the first cache write.
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>Loads <paramref name="libraryName"/> and looks up every export.</summary>
    /// <param name="libraryName">The library file name (resolved like <c>LibraryImport</c> resolves it).</param>
    /// <param name="exports">The function names that must exist.</param>
    /// <param name="reason">Why the probe failed; <see langword="null"/> on success.</param>
    /// <returns><see langword="true"/> when the library loaded and has every export.</returns>
    public static bool TryProbe(string libraryName, IReadOnlyList<string> exports, out string? reason)
    {
        if (!NativeLibrary.TryLoad(libraryName, typeof(NativeLibraryProbe).Assembly, DllImportSearchPath.SafeDirectories, out var handle))
        {
            reason = $"{libraryName} could not be loaded";
            return false;
        }

        // The handle stays loaded on purpose: the LibraryImport stubs load the same library again and the
        // loader shares it; freeing here would only add a load/unload cycle.
        foreach (var export in exports)
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
            {
                reason = $"{libraryName} lacks {export}";
                return false;
            }
        }

        reason = null;
        return true;
    }
}
