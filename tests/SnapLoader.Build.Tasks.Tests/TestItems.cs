using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>Publish items as the SDK hands them to the tasks.</summary>
internal static class TestItems
{
    public static ITaskItem PublishItem(string sourcePath, string relativePath, string? packageId = null, string? version = null, string? pathInPackage = null, string? assetType = null)
    {
        var item = new TaskItem(sourcePath);
        item.SetMetadata("RelativePath", relativePath);
        if (packageId is not null)
        {
            item.SetMetadata("NuGetPackageId", packageId);
            item.SetMetadata("NuGetPackageVersion", version ?? "");
            item.SetMetadata("PathInPackage", pathInPackage ?? relativePath);
        }
        if (assetType is not null)
        {
            item.SetMetadata("AssetType", assetType);
        }
        return item;
    }

    public static string WriteFile(string folder, string name, int size, byte fill = 0x42)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[size];
        Array.Fill(bytes, fill);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
