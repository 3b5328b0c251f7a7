namespace SnapLoader.Runtime;

/// <summary>What a moved file is, which decides what the runtime does with it after it is in memory.</summary>
public enum MovedFileKind
{
    /// <summary>A shared library (ELF <c>.so</c>): loaded in <see cref="SnapLoaderManifest.Files"/> order.</summary>
    NativeLibrary,

    /// <summary>Any other file (a model, weights, data): only made readable at its original path.</summary>
    Data,
}
