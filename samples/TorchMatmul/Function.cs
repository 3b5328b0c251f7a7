using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TorchMatmul;

/// <summary>
/// Multiplies two matrices with the BLAS inside libtorch_cpu.so (Intel MKL, linked in statically). The event is JSON:
/// <c>{"a": [[1, 2], [3, 4]], "b": [[5, 6], [7, 8]]}</c>. Returns the product, the MKL version and LibTorch's thread
/// count, and the time of the call.
/// </summary>
public class Function
{
    public Stream Handler(Stream input)
    {
        var request = JsonDocument.Parse(input).RootElement;
        var a = Matrix(request.GetProperty("a"), out var m, out var k);
        var b = Matrix(request.GetProperty("b"), out var kb, out var n);
        if (kb != k)
        {
            throw new ArgumentException($"a is {m}x{k} and b is {kb}x{n}: the inner sizes differ.");
        }

        var clock = Stopwatch.StartNew();
        var c = new float[m * n];
        // BLAS is column-major: the row-major product C = A·B is the column-major Cᵀ = Bᵀ·Aᵀ.
        byte noTranspose = (byte)'N';
        float alpha = 1, beta = 0;
        Torch.Sgemm(ref noTranspose, ref noTranspose, ref n, ref m, ref k, ref alpha, b, ref n, a, ref k, ref beta, c, ref n);
        var sgemmMs = clock.Elapsed.TotalMilliseconds;

        var version = new byte[256];
        Torch.MklGetVersionString(version, version.Length);
        var response = new
        {
            c = Enumerable.Range(0, m).Select(row => c.Skip(row * n).Take(n).ToArray()).ToArray(),
            mkl = Encoding.ASCII.GetString(version).TrimEnd('\0', ' '),
            torchThreads = Torch.GetNumThreads(),
            sgemmMs = Math.Round(sgemmMs, 3),
        };
        return new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response)));
    }

    private static float[] Matrix(JsonElement rows, out int rowCount, out int columnCount)
    {
        rowCount = rows.GetArrayLength();
        columnCount = rowCount == 0 ? 0 : rows[0].GetArrayLength();
        var values = new float[rowCount * columnCount];
        var i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            if (row.GetArrayLength() != columnCount)
            {
                throw new ArgumentException("Every row of a matrix must have the same length.");
            }
            foreach (var value in row.EnumerateArray())
            {
                values[i++] = value.GetSingle();
            }
        }
        return values;
    }
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
