using SnapLoader.Runtime;
using SnapLoader.Tests;

namespace SnapLoader.Benchmarks.Load;

/// <summary>One file of a payload, in the order the runtime loads it.</summary>
internal sealed record PayloadFile(string EntryName, string SourcePath, MovedFileKind Kind, string? Soname);

/// <summary>A set of real files that a function would move into one archive.</summary>
internal sealed record Payload(string Id, string Title, IReadOnlyList<PayloadFile> Files)
{
    /// <summary>
    /// What a TorchSharp-cpu function moves. Listed in dependency order, as the build's ELF analysis would order them:
    /// libtorch_cpu.so needs libc10.so and libgomp (which it names libgomp-98b21ff3.so.1, SONAME libgomp.so.1), and
    /// libtorch.so needs libtorch_cpu.so.
    /// </summary>
    public static Payload LibTorch()
    {
        var folder = TestPaths.LibTorchNativeFolder;
        return new("libtorch", "libtorch set",
        [
            new("libgomp-98b21ff3.so.1", Path.Combine(folder, "libgomp-98b21ff3.so.1"), MovedFileKind.NativeLibrary, "libgomp.so.1"),
            new("libc10.so", Path.Combine(folder, "libc10.so"), MovedFileKind.NativeLibrary, "libc10.so"),
            new("libtorch_cpu.so", Path.Combine(folder, "libtorch_cpu.so"), MovedFileKind.NativeLibrary, "libtorch_cpu.so"),
            new("libtorch.so", Path.Combine(folder, "libtorch.so"), MovedFileKind.NativeLibrary, "libtorch.so"),
        ]);
    }

    /// <summary>What an ONNX Runtime function with a bundled model moves.</summary>
    public static Payload Onnx() => new("onnx", "ONNX Runtime + ResNet18",
    [
        new("libonnxruntime.so", TestPaths.OnnxRuntimeLibrary(), MovedFileKind.NativeLibrary, "libonnxruntime.so.1"),
        new("models/ResNet18.onnx", TestPaths.ResNet18Model, MovedFileKind.Data, null),
    ]);
}
