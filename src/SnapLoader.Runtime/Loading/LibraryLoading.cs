namespace SnapLoader.Runtime;

/// <summary>When the libraries of a load are loaded.</summary>
internal enum LibraryLoading
{
    /// <summary>Each when something first opens it, its needs first; those marked SnapLoaderLoadAtInit now.</summary>
    WhenOpened,

    /// <summary>All of them now, in the archive's order: the lambda-snaploader API's promise for a user's own zip.</summary>
    AllNow,
}
