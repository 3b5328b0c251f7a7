namespace SnapLoader.Build.Tasks;

/// <summary>
/// A failure the user can act on. The task that catches it logs <see cref="Code"/> and the message
/// as an MSBuild error, so every failure carries a documented SNAP code.
/// </summary>
public sealed class SnapLoaderBuildException : Exception
{
    public SnapLoaderBuildException(string code, string message, string? file = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        File = file;
    }

    /// <summary>The SNAPnnnn code documented in README.md.</summary>
    public string Code { get; }

    /// <summary>The file the error is about, if any; MSBuild shows it as the error's location.</summary>
    public string? File { get; }
}
