using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Serialization;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.DefaultLambdaJsonSerializer))]

namespace TorchMatmul;

/// <summary>The event: two matrices, row by row, <c>{"a": [[1, 2], [3, 4]], "b": [[5, 6], [7, 8]]}</c>.</summary>
public sealed record MatmulRequest(
    [property: JsonPropertyName("a")] float[][] A,
    [property: JsonPropertyName("b")] float[][] B);

/// <summary>
/// The answer: the product, the MKL version and LibTorch's thread count, the time of the call, and whether this
/// invocation had to warm LibTorch up itself (with SnapStart it never should: the snapshot holds the warm state).
/// </summary>
public sealed record MatmulResponse(
    [property: JsonPropertyName("c")] float[][] C,
    [property: JsonPropertyName("mkl")] string Mkl,
    [property: JsonPropertyName("torchThreads")] int TorchThreads,
    [property: JsonPropertyName("sgemmMs")] double SgemmMs,
    [property: JsonPropertyName("createdDuringInvoke")] bool CreatedDuringInvoke,
    [property: JsonPropertyName("warmUpMs")] double WarmUpMs);

/// <summary>
/// Multiplies two matrices with the BLAS inside libtorch_cpu.so (Intel MKL, linked in statically). The constructor
/// makes the first calls into LibTorch (the imports bind, MKL and LibTorch initialize), so that with
/// SnapStart that work is in the snapshot and no invocation pays for it.
/// </summary>
public class Function
{
    // 0 while the function initializes (constructor, before any invocation); then the number of the invocation under way.
    private static int s_invocation;

    private WarmState? _warm;

    public Function()
    {
        _warm = WarmUp();
    }

    public MatmulResponse Handler(MatmulRequest request, ILambdaContext context)
    {
        var invocation = Interlocked.Increment(ref s_invocation);
        // Were the warm-up moved out of the constructor, the first invocation would do it here, and say so.
        var warm = _warm ??= WarmUp();

        var a = Matrix(request.A, "a", out var m, out var k);
        var b = Matrix(request.B, "b", out var kb, out var n);
        if (kb != k)
        {
            throw new ArgumentException($"a is {m}x{k} and b is {kb}x{n}: the inner sizes differ.");
        }

        var clock = Stopwatch.StartNew();
        var c = Multiply(a, b, m, k, n);
        var sgemmMs = clock.Elapsed.TotalMilliseconds;

        var createdDuringInvoke = warm.CreatedInInvocation == invocation;
        context.Logger.LogInformation($"sgemm_ {m}x{k} by {kb}x{n} in {sgemmMs:F3} ms; warm state from "
            + (warm.CreatedInInvocation == 0 ? "init" : $"invocation {warm.CreatedInInvocation}"));
        return new MatmulResponse(
            Enumerable.Range(0, m).Select(row => c.AsSpan(row * n, n).ToArray()).ToArray(),
            warm.MklVersion,
            Torch.GetNumThreads(),
            Math.Round(sgemmMs, 3),
            createdDuringInvoke,
            Math.Round(warm.Milliseconds, 3));
    }

    /// <summary>The first calls into libtorch_cpu.so, stamped with the invocation they ran in (0: init).</summary>
    private static WarmState WarmUp()
    {
        var createdIn = Volatile.Read(ref s_invocation);
        var clock = Stopwatch.StartNew();
        // A 64x64 product by the identity, checked so that a library that does not answer fails init, not an invocation.
        const int size = 64;
        var identity = new float[size * size];
        var values = new float[size * size];
        for (var i = 0; i < size; i++)
        {
            identity[i * size + i] = 1;
        }
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i % 7;
        }
        var product = Multiply(values, identity, size, size, size);
        if (!product.AsSpan().SequenceEqual(values))
        {
            throw new InvalidOperationException("sgemm_ of libtorch_cpu.so did not return the matrix multiplied by the identity.");
        }
        var version = new byte[256];
        Torch.MklGetVersionString(version, version.Length);
        _ = Torch.GetNumThreads();
        return new WarmState(Encoding.ASCII.GetString(version).TrimEnd('\0', ' '), createdIn, clock.Elapsed.TotalMilliseconds);
    }

    // BLAS is column-major: the row-major product C = A·B is the column-major Cᵀ = Bᵀ·Aᵀ.
    private static float[] Multiply(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        byte noTranspose = (byte)'N';
        float alpha = 1, beta = 0;
        Torch.Sgemm(ref noTranspose, ref noTranspose, ref n, ref m, ref k, ref alpha, b, ref n, a, ref k, ref beta, c, ref n);
        return c;
    }

    private static float[] Matrix(float[][]? rows, string name, out int rowCount, out int columnCount)
    {
        if (rows is null)
        {
            throw new ArgumentException($"The event has no matrix \"{name}\".");
        }
        rowCount = rows.Length;
        columnCount = rowCount == 0 ? 0 : rows[0]?.Length ?? 0;
        var values = new float[rowCount * columnCount];
        for (var row = 0; row < rowCount; row++)
        {
            if (rows[row] is not { } line || line.Length != columnCount)
            {
                throw new ArgumentException($"Every row of matrix \"{name}\" must have the same length.");
            }
            line.CopyTo(values, row * columnCount);
        }
        return values;
    }

    private sealed record WarmState(string MklVersion, int CreatedInInvocation, double Milliseconds);
}

/// <summary>Entry points of libtorch_cpu.so. With SnapLoader the library is in a memory file, and the runtime answers these imports.</summary>
internal static class Torch
{
    private const string Library = "libtorch_cpu.so";

    // MKL's Fortran-style BLAS: every argument by reference.
    [DllImport(Library, EntryPoint = "sgemm_")]
    public static extern void Sgemm(ref byte transa, ref byte transb, ref int m, ref int n, ref int k, ref float alpha,
        float[] a, ref int lda, float[] b, ref int ldb, ref float beta, float[] c, ref int ldc);

    [DllImport(Library, EntryPoint = "MKL_Get_Version_String")]
    public static extern void MklGetVersionString(byte[] buffer, int length);

    // at::get_num_threads(), a C++ function: its mangled name.
    [DllImport(Library, EntryPoint = "_ZN2at15get_num_threadsEv")]
    public static extern int GetNumThreads();
}
