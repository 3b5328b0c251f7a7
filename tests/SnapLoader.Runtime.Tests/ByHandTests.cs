using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>The .NET form of lambda-snaploader's API, on archives and memory files made by hand.</summary>
[TestClass]
[DoNotParallelize] // the API keeps process-wide state, as the Python module did
public sealed class ByHandTests
{
    [TestMethod]
    public async Task AUserMadeZipLoadsWithAFilterAndEveryFileIsReachable()
    {
        var folder = TestPaths.NewTempFolder("api");
        var content = Directory.CreateDirectory(Path.Combine(folder, "content")).FullName;
        Directory.CreateDirectory(Path.Combine(content, "models"));
        File.WriteAllText(Path.Combine(content, "models", "labels.txt"), "cat\ndog\n");
        File.WriteAllText(Path.Combine(content, "README.txt"), "not wanted");
        var zip = Path.Combine(folder, "user.zip");
        ProcessRunner.Run("zip", ["-r", "-q", zip, "models", "README.txt"], content).EnsureSuccess("zip -r");
        var links = Path.Combine(folder, "links");

        var basePathBefore = SnapLoaderRuntime.BasePath;

        await SnapLoaderRuntime.LoadLibrariesFromFileAsync(zip, new ArchiveLoadOptions
        {
            FileFilter = name => name.StartsWith("models/", StringComparison.Ordinal),
            BasePath = "/opt/ml/model",
            TargetDirectory = links,
        });

        Assert.AreEqual("cat\ndog\n", File.ReadAllText(Path.Combine(links, "models", "labels.txt")));
        Assert.IsFalse(File.Exists(Path.Combine(links, "README.txt")), "the filter left it out");
        Assert.AreEqual(Path.Combine(links, "models/labels.txt"), SnapLoaderRuntime.GetPath("/opt/ml/model/models/labels.txt"));
        Assert.AreEqual(Path.Combine(links, "models/labels.txt"), SnapLoaderRuntime.GetPath("models/labels.txt"));
        Assert.IsTrue(SnapLoaderRuntime.GetFileDescriptors().ContainsKey("models/labels.txt"));
        Assert.IsNull(SnapLoaderRuntime.GetPath("README.txt"));
        Assert.AreEqual(basePathBefore, SnapLoaderRuntime.BasePath, "a load's base path is its own, not the process's");
    }

    [TestMethod]
    public async Task WithoutABasePathTheLoadUsesTheProcesssOne()
    {
        var folder = TestPaths.NewTempFolder("api");
        var content = Directory.CreateDirectory(Path.Combine(folder, "content")).FullName;
        File.WriteAllText(Path.Combine(content, "weights.bin"), "w");
        var zip = Path.Combine(folder, "user.zip");
        ProcessRunner.Run("zip", ["-q", zip, "weights.bin"], content).EnsureSuccess("zip");
        var links = Path.Combine(folder, "links");
        using var env = new EnvironmentScope(new() { ["SNAPLOADER_BASE_PATH"] = "/opt/by-environment" });

        await SnapLoaderRuntime.LoadLibrariesFromFileAsync(zip, new ArchiveLoadOptions { TargetDirectory = links });

        Assert.AreEqual(Path.Combine(links, "weights.bin"), SnapLoaderRuntime.GetPath("/opt/by-environment/weights.bin"));
    }

    [TestMethod]
    [DataRow("relative/base", "/tmp/links")]
    [DataRow("/opt/base", "relative/links")]
    [DataRow("/opt/base", "")]
    public async Task AFolderThatIsNotAbsoluteIsRefusedBeforeTheArchiveIsOpened(string basePath, string targetDirectory)
    {
        var error = await Assert.ThrowsExactlyAsync<ArgumentException>(() => SnapLoaderRuntime.LoadLibrariesFromFileAsync(
            "/nonexistent/archive.zip", new ArchiveLoadOptions { BasePath = basePath, TargetDirectory = targetDirectory }));

        StringAssert.Contains(error.Message, "must be an absolute path");
    }

    [TestMethod]
    public async Task LoadLibrariesFromS3InOneCall()
    {
        await using var server = await S3rverServer.StartAsync("user-libs");
        var folder = TestPaths.NewTempFolder("api");
        var content = Directory.CreateDirectory(Path.Combine(folder, "content")).FullName;
        File.WriteAllText(Path.Combine(content, "vocab.txt"), "hello");
        var zip = Path.Combine(folder, "user.zip");
        ProcessRunner.Run("zip", ["-q", zip, "vocab.txt"], content).EnsureSuccess("zip");
        await server.PutObjectAsync("user-libs", "libs/user.zip", File.ReadAllBytes(zip));
        var links = Path.Combine(folder, "links");
        using var env = new EnvironmentScope(server.AwsVariables(server.ServiceUrl));

        await SnapLoaderRuntime.LoadLibrariesFromS3Async("user-libs", "libs/user.zip", new ArchiveLoadOptions { BasePath = "/srv/app", TargetDirectory = links });

        Assert.AreEqual("hello", File.ReadAllText(Path.Combine(links, "vocab.txt")));
        Assert.AreEqual(Path.Combine(links, "vocab.txt"), SnapLoaderRuntime.GetPath("/srv/app/vocab.txt"));
    }

    [TestMethod]
    public async Task ALibraryTheLoaderRefusesLeavesNoLinksAndNoMemoryFiles()
    {
        // An AArch64 library on this x86-64 machine: streamed and verified, then refused by the dynamic loader.
        var folder = TestPaths.NewTempFolder("api");
        var content = Directory.CreateDirectory(Path.Combine(folder, "content")).FullName;
        File.Copy(TestPaths.OnnxRuntimeLibrary("linux-arm64"), Path.Combine(content, "libwrongarch.so"));
        var zip = Path.Combine(folder, "user.zip");
        ProcessRunner.Run("zip", ["-q", zip, "libwrongarch.so"], content).EnsureSuccess("zip");
        var links = Path.Combine(folder, "links");
        var before = TestArchives.OpenMemfds();

        var error = await Assert.ThrowsExactlyAsync<SnapLoaderException>(() =>
            SnapLoaderRuntime.LoadLibrariesFromFileAsync(zip, new ArchiveLoadOptions { BasePath = "/opt/wrong", TargetDirectory = links }));

        Assert.AreEqual(RuntimeErrorCodes.LibraryLoadFailed, error.Code);
        StringAssert.Contains(error.Message, "libwrongarch.so");
        Assert.IsFalse(File.Exists(Path.Combine(links, "libwrongarch.so")) || new FileInfo(Path.Combine(links, "libwrongarch.so")).LinkTarget is not null,
            "the link of the failed load is gone");
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray(), "its memory file is closed");
        Assert.IsNull(SnapLoaderRuntime.GetPath("/opt/wrong/libwrongarch.so"));
    }

    [TestMethod]
    public async Task MemoryFilesMadeByHandAreSealedLinkedAndListed()
    {
        var links = Path.Combine(TestPaths.NewTempFolder("api"), "links");
        var name = $"manual/{Guid.NewGuid():N}.bin";

        var fromBytes = SnapLoaderRuntime.CreateMemoryFile(name, [1, 2, 3]);
        using var stream = new MemoryStream(new byte[] { 9, 8, 7, 6 });
        var fromStream = await SnapLoaderRuntime.CreateMemoryFileAsync(name + ".stream", stream, stream.Length);
        SnapLoaderRuntime.CreateSymlinks(links);

        Assert.IsTrue(fromBytes.IsSealed && fromStream.IsSealed);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(links, name)));
        CollectionAssert.AreEqual(new byte[] { 9, 8, 7, 6 }, File.ReadAllBytes(Path.Combine(links, name + ".stream")));
        Assert.AreEqual(fromBytes.Fd, SnapLoaderRuntime.GetFileDescriptors()[name]);
        Assert.ThrowsExactly<ArgumentException>(() => SnapLoaderRuntime.CreateMemoryFile(name, [4]), "one memory file per name");
        Assert.ThrowsExactly<ArgumentException>(() => SnapLoaderRuntime.CreateMemoryFile("../outside.bin", [4]), "a name must stay inside the folders");
    }

    [TestMethod]
    [DataRow("../outside.bin", "'..' segment")]
    [DataRow("C:/drive.bin", "drive letter")]
    [DataRow("/abs.bin", "is absolute")]
    [DataRow("back\\slash.bin", "backslash")]
    [DataRow("bell.bin", "control character")]
    [DataRow("", "is empty")]
    public async Task AMemoryFileNameFollowsTheEntryNameRulesAndABadOneMakesNoMemoryFile(string name, string problem)
    {
        var before = TestArchives.OpenMemfds();

        var fromBytes = Assert.ThrowsExactly<ArgumentException>(() => SnapLoaderRuntime.CreateMemoryFile(name, [4]));
        using var stream = new MemoryStream([1]);
        var fromStream = await Assert.ThrowsExactlyAsync<ArgumentException>(() => SnapLoaderRuntime.CreateMemoryFileAsync(name, stream, 1));

        StringAssert.Contains(fromBytes.Message, problem);
        StringAssert.Contains(fromStream.Message, problem);
        CollectionAssert.AreEquivalent(before.ToArray(), TestArchives.OpenMemfds().ToArray());
        Assert.IsFalse(SnapLoaderRuntime.GetFileDescriptors().ContainsKey(name));
    }

    [TestMethod]
    public async Task AStreamShorterThanAnnouncedLeavesNoMemoryFile()
    {
        var name = $"manual/{Guid.NewGuid():N}.bin";
        using var stream = new MemoryStream(new byte[] { 1, 2 });

        await Assert.ThrowsExactlyAsync<InvalidDataException>(() => SnapLoaderRuntime.CreateMemoryFileAsync(name, stream, 10));

        Assert.IsFalse(SnapLoaderRuntime.GetFileDescriptors().ContainsKey(name));
    }

    [TestMethod]
    public void WithoutTheShimSetupPreloadSaysSoAndHooksNeedAmazonLambdaCore()
    {
        Assert.IsFalse(SnapLoaderRuntime.SetupPreload(), "the test host is not started through the exec wrapper");
        Assert.IsFalse(SnapLoaderRuntime.RegisterSnapStartHook(), "Amazon.Lambda.Core is not loaded here");
        Assert.ThrowsExactly<ArgumentException>(() => SnapLoaderRuntime.SetBasePath("relative/path"));
        Assert.ThrowsExactly<ArgumentException>(() => SnapLoaderRuntime.CreateSymlinks("relative/links"));
    }
}
