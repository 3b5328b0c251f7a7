using Microsoft.Build.Framework;
using SnapLoader.Tests;

namespace SnapLoader.Build.Tasks.Tests;

/// <summary>What a publish that moved nothing leaves out: what only SnapLoader.Build brings, by restore's dependency graph.</summary>
[TestClass]
public sealed class FindSnapLoaderRuntimeFilesTests
{
    // The graph as restore writes it for a function with SnapLoader.Build, Amazon.Lambda.Core and Microsoft.ML.OnnxRuntime
    // (trimmed to the dependencies), with the function's extra direct dependencies and libraries added by each test.
    private static string AssetsFile(string extraDirect = "", string extraLibraries = "", string targetKey = "net10.0/linux-x64")
    {
        var libraries = $$"""
            "Amazon.Lambda.Core/3.2.0": { "type": "package" },
            "AWSSDK.Core/4.1.0": { "type": "package", "dependencies": { "AWSSDK.Extensions.Numerics": "4.1.0", "System.IO.Hashing": "11.0.0" } },
            "AWSSDK.Extensions.Numerics/4.1.0": { "type": "package" },
            "AWSSDK.S3/4.1.0": { "type": "package", "dependencies": { "AWSSDK.Core": "[4.1.0, 5.0.0)" } },
            "Microsoft.ML.OnnxRuntime/1.31.1": { "type": "package", "dependencies": { "Microsoft.ML.OnnxRuntime.Managed": "1.31.1" } },
            "Microsoft.ML.OnnxRuntime.Managed/1.31.1": { "type": "package", "dependencies": { "System.Numerics.Tensors": "9.0.0" } },
            "SnapLoader.Build/0.1.0": { "type": "package", "dependencies": { "SnapLoader.Runtime": "0.1.0" } },
            "SnapLoader.Runtime/0.1.0": { "type": "package", "dependencies": { "AWSSDK.S3": "4.1.0", "System.IO.Hashing": "11.0.0", "ZstdSharp.Port": "0.8.8" } },
            "System.IO.Hashing/11.0.0": { "type": "package" },
            "System.Numerics.Tensors/9.0.0": { "type": "package" },
            "ZstdSharp.Port/0.8.8": { "type": "package" }
            {{extraLibraries}}
            """;
        var path = Path.Combine(TestPaths.NewTempFolder("assets"), "project.assets.json");
        File.WriteAllText(path, $$"""
            {
              "version": 3,
              "targets": {
                "net10.0": { {{libraries}} },
                "{{targetKey}}": { {{libraries}} }
              },
              "project": {
                "frameworks": {
                  "net10.0": {
                    "targetAlias": "net10.0",
                    "dependencies": {
                      "Amazon.Lambda.Core": { "target": "Package", "version": "[3.2.0, )" },
                      "Microsoft.ML.OnnxRuntime": { "target": "Package", "version": "[1.31.1, )" },
                      "SnapLoader.Build": { "suppressParent": "All", "target": "Package", "version": "[0.1.0, )" }
                      {{extraDirect}}
                    }
                  }
                }
              }
            }
            """);
        return path;
    }

    // One published file per package, as ResolvedFileToPublish has them.
    private static readonly ITaskItem[] s_publishSet =
    [
        TestItems.PublishItem("/p/Amazon.Lambda.Core.dll", "Amazon.Lambda.Core.dll", "Amazon.Lambda.Core", "3.2.0", "lib/net10.0/Amazon.Lambda.Core.dll"),
        TestItems.PublishItem("/p/AWSSDK.Core.dll", "AWSSDK.Core.dll", "AWSSDK.Core", "4.1.0", "lib/net10.0/AWSSDK.Core.dll"),
        TestItems.PublishItem("/p/AWSSDK.Extensions.Numerics.dll", "AWSSDK.Extensions.Numerics.dll", "AWSSDK.Extensions.Numerics", "4.1.0", "lib/net10.0/AWSSDK.Extensions.Numerics.dll"),
        TestItems.PublishItem("/p/AWSSDK.S3.dll", "AWSSDK.S3.dll", "AWSSDK.S3", "4.1.0", "lib/net10.0/AWSSDK.S3.dll"),
        TestItems.PublishItem("/p/Microsoft.ML.OnnxRuntime.dll", "Microsoft.ML.OnnxRuntime.dll", "Microsoft.ML.OnnxRuntime.Managed", "1.31.1", "lib/net8.0/Microsoft.ML.OnnxRuntime.dll"),
        TestItems.PublishItem("/p/libonnxruntime.so", "libonnxruntime.so", "Microsoft.ML.OnnxRuntime", "1.31.1", "runtimes/linux-x64/native/libonnxruntime.so"),
        TestItems.PublishItem("/p/SnapLoader.Runtime.dll", "SnapLoader.Runtime.dll", "SnapLoader.Runtime", "0.1.0", "lib/net8.0/SnapLoader.Runtime.dll"),
        TestItems.PublishItem("/p/libsnaploader_preload.so", "libsnaploader_preload.so", "SnapLoader.Runtime", "0.1.0", "runtimes/linux-x64/native/libsnaploader_preload.so"),
        TestItems.PublishItem("/p/System.IO.Hashing.dll", "System.IO.Hashing.dll", "System.IO.Hashing", "11.0.0", "lib/net10.0/System.IO.Hashing.dll"),
        TestItems.PublishItem("/p/System.Numerics.Tensors.dll", "System.Numerics.Tensors.dll", "System.Numerics.Tensors", "9.0.0", "lib/net9.0/System.Numerics.Tensors.dll"),
        TestItems.PublishItem("/p/ZstdSharp.dll", "ZstdSharp.dll", "ZstdSharp.Port", "0.8.8", "lib/net9.0/ZstdSharp.dll"),
        TestItems.PublishItem("/p/Function.dll", "Function.dll"),
    ];

    private static FindSnapLoaderRuntimeFiles Find(string assetsFile, string runtimeIdentifier = "linux-x64")
    {
        var task = new FindSnapLoaderRuntimeFiles
        {
            BuildEngine = new RecordingBuildEngine(),
            Files = s_publishSet,
            ProjectAssetsFile = assetsFile,
            TargetFramework = "net10.0",
            RuntimeIdentifier = runtimeIdentifier,
        };
        Assert.IsTrue(task.Execute());
        return task;
    }

    private static string[] FileNames(FindSnapLoaderRuntimeFiles task) => task.RuntimeFiles.Select(f => Path.GetFileName(f.ItemSpec)).Order(StringComparer.Ordinal).ToArray();

    [TestMethod]
    public void TheRuntimeTheShimAndTheAwsSdkGoWhatTheFunctionUsesStays()
    {
        var task = Find(AssetsFile());

        CollectionAssert.AreEqual(new[] { "AWSSDK.Core", "AWSSDK.Extensions.Numerics", "AWSSDK.S3", "SnapLoader.Runtime", "System.IO.Hashing", "ZstdSharp.Port" }, task.PackageIds);
        CollectionAssert.AreEqual(new[] { "AWSSDK.Core.dll", "AWSSDK.Extensions.Numerics.dll", "AWSSDK.S3.dll", "SnapLoader.Runtime.dll", "System.IO.Hashing.dll", "ZstdSharp.dll", "libsnaploader_preload.so" },
            FileNames(task));
    }

    [TestMethod]
    public void AFunctionThatReferencesTheRuntimeItselfKeepsEverything()
    {
        var task = Find(AssetsFile(""", "SnapLoader.Runtime": { "target": "Package", "version": "[0.1.0, )" }"""));

        Assert.AreEqual(0, task.RuntimeFiles.Length, string.Join(", ", FileNames(task)));
    }

    [TestMethod]
    public void AFunctionThatUsesTheAwsSdkKeepsIt()
    {
        var task = Find(AssetsFile(""", "AWSSDK.S3": { "target": "Package", "version": "[4.1.0, )" }"""));

        CollectionAssert.AreEqual(new[] { "SnapLoader.Runtime.dll", "ZstdSharp.dll", "libsnaploader_preload.so" }, FileNames(task));
    }

    [TestMethod]
    public void WhatAProjectReferenceNeedsStays()
    {
        var task = Find(AssetsFile(extraLibraries: """, "Storage/1.0.0": { "type": "project", "dependencies": { "AWSSDK.Core": "4.1.0" } }"""));

        CollectionAssert.AreEqual(new[] { "AWSSDK.S3.dll", "SnapLoader.Runtime.dll", "ZstdSharp.dll", "libsnaploader_preload.so" }, FileNames(task));
    }

    [TestMethod]
    public void APortablePublishReadsTheTargetWithoutRid()
    {
        var task = Find(AssetsFile(targetKey: "net10.0/linux-arm64"), runtimeIdentifier: "");

        Assert.AreEqual(7, task.RuntimeFiles.Length);
    }

    [TestMethod]
    public void WithoutTheAssetsFileOrItsTargetNothingIsLeftOut()
    {
        Assert.AreEqual(0, Find("/nonexistent/project.assets.json").RuntimeFiles.Length);
        Assert.AreEqual(0, Find(AssetsFile(targetKey: "net10.0/linux-arm64"), runtimeIdentifier: "linux-x64").RuntimeFiles.Length,
            "a RID-specific publish needs the RID's target; restore for it has it");
    }
}
