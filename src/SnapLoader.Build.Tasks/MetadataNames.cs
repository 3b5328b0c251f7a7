namespace SnapLoader.Build.Tasks;

/// <summary>Item metadata the SnapLoader tasks read from the SDK and add for each other.</summary>
internal static class MetadataNames
{
    // Set by the SDK on ResolvedFileToPublish.
    public const string RelativePath = "RelativePath";
    public const string AssetType = "AssetType";
    public const string NuGetPackageId = "NuGetPackageId";
    public const string NuGetPackageVersion = "NuGetPackageVersion";
    public const string PathInPackage = "PathInPackage";

    // Added by SnapLoader; the moved file's publish-relative path with forward slashes is also its archive entry name,
    // unless the file is stored under an identical file's entry (Entry).
    public const string MovedPath = "SnapLoaderRelativePath";
    public const string Kind = "SnapLoaderKind";
    public const string Size = "SnapLoaderSize";
    public const string Soname = "SnapLoaderSoname";
    public const string Needed = "SnapLoaderNeeded";
    public const string Runpath = "SnapLoaderRunpath";
    public const string Sha256 = "SnapLoaderSha256";
    // The moved libraries a library needs (LibraryNeeds), ';'-separated relative paths in DT_NEEDED order.
    public const string Needs = "SnapLoaderNeeds";
    // "true" on a library that a SnapLoaderLoadAtInit item names: it loads at init rather than when first opened.
    public const string LoadAtInit = "SnapLoaderLoadAtInit";
    // Set by PackArchive on a file whose bytes are those of an earlier moved file: the archive entry that holds them
    // (that file's relative path). Absent when the file has its own entry.
    public const string Entry = "SnapLoaderEntry";
}

/// <summary>Values of <see cref="MetadataNames.Kind"/>; the same names as SnapLoader.Runtime's MovedFileKind.</summary>
internal static class MovedFileKinds
{
    public const string NativeLibrary = "NativeLibrary";
    public const string Data = "Data";
}
