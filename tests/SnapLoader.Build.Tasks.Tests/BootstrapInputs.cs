using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>GenerateBootstrap as the targets run it after PackArchive: the files packed and the archive, all with one made-up SHA-256.</summary>
internal static class BootstrapInputs
{
    public const string Sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <summary>A file PackArchive packed, with the metadata GenerateBootstrap reads (1,234 bytes, <see cref="Sha256"/>).</summary>
    public static ITaskItem Packed(string relativePath, string kind, string soname = "", string needs = "", string loadAtInit = "")
    {
        var item = new TaskItem("/src/" + relativePath);
        item.SetMetadata("SnapLoaderRelativePath", relativePath);
        item.SetMetadata("SnapLoaderKind", kind);
        item.SetMetadata("SnapLoaderSize", "1234");
        item.SetMetadata("SnapLoaderSha256", Sha256);
        item.SetMetadata("SnapLoaderSoname", soname);
        item.SetMetadata("SnapLoaderNeeds", needs);
        item.SetMetadata("SnapLoaderLoadAtInit", loadAtInit);
        return item;
    }

    /// <summary>The task writing <paramref name="output"/> for <paramref name="files"/>, with the archive in <paramref name="bucket"/>.</summary>
    public static GenerateBootstrap Bootstrap(string output, string bucket, params ITaskItem[] files) => new()
    {
        BuildEngine = new RecordingBuildEngine(),
        Files = files,
        OutputFile = output,
        RuntimeIdentifier = "linux-x64",
        ArchiveFileName = Sha256 + ".zip",
        ArchiveSha256 = Sha256,
        ArchiveLength = 99,
        Bucket = bucket,
        Key = "snaploader/" + Sha256 + ".zip",
    };
}
