using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace OnnxEmbedding;

/// <summary>
/// Embeds an image with ResNet18. The event is JSON: <c>{"seed": 42}</c> makes a deterministic 224x224 test image;
/// <c>{"pixels": "&lt;base64 of 3x224x224 float32, channel first&gt;"}</c> passes a real one. Returns the 512-value
/// embedding's first values, its norm, the timings, and whether this invocation had to create the session itself
/// (with SnapStart it never should: the snapshot holds the session).
/// </summary>
public class Function
{
    // Opened by its original path beside the function: with SnapLoader the file is in a memory file, and the preload
    // shim answers for that path.
    private static readonly string s_modelPath = Path.Combine(
        Path.GetDirectoryName(typeof(Function).Assembly.Location)!, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    // 0 while the function initializes (constructor, before any invocation); then the number of the invocation under way.
    private static int s_invocation;

    private SessionState? _session;

    /// <summary>
    /// Creates the session at init: with SnapStart, the model parsed and the graph optimized are in the snapshot, and
    /// no invocation pays for them.
    /// </summary>
    public Function()
    {
        _session = CreateSession();
    }

    public Stream Handler(Stream input)
    {
        var invocation = Interlocked.Increment(ref s_invocation);
        var clock = Stopwatch.StartNew();
        var request = JsonDocument.Parse(input).RootElement;
        // Were the session moved out of the constructor, the first invocation would create it here, and say so.
        var state = _session ??= CreateSession();
        var session = state.Session;
        var sessionMs = clock.ElapsedMilliseconds;

        var (name, metadata) = session.InputMetadata.First();
        var shape = metadata.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
        var pixels = request.TryGetProperty("pixels", out var encoded)
            ? MemoryMarshalFloats(Convert.FromBase64String(encoded.GetString()!))
            : TestImage(request.TryGetProperty("seed", out var seed) ? seed.GetInt32() : 0, shape.Aggregate(1, (a, b) => a * b));
        var tensor = new DenseTensor<float>(pixels, shape);

        clock.Restart();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, tensor)]);
        var embedding = results.First().AsEnumerable<float>().ToArray();
        var inferenceMs = clock.ElapsedMilliseconds;

        var response = new
        {
            length = embedding.Length,
            head = embedding.Take(8).Select(v => Math.Round(v, 5)).ToArray(),
            norm = Math.Round(Math.Sqrt(embedding.Sum(v => (double)v * v)), 4),
            // The time this invocation waited for the session: about 0 when init created it.
            sessionMs,
            inferenceMs,
            createdDuringInvoke = state.CreatedInInvocation == invocation,
            // How long creating the session and its first run took, wherever they ran.
            warmUpMs = state.Milliseconds,
        };
        return new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response)));
    }

    /// <summary>
    /// Opens the model and runs it once on a blank image (ONNX Runtime allocates its buffers on the first run),
    /// stamped with the invocation it ran in (0: init).
    /// </summary>
    private static SessionState CreateSession()
    {
        var createdIn = Volatile.Read(ref s_invocation);
        var clock = Stopwatch.StartNew();
        var session = new InferenceSession(s_modelPath);
        var (name, metadata) = session.InputMetadata.First();
        var shape = metadata.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
        var blank = new DenseTensor<float>(new float[shape.Aggregate(1, (a, b) => a * b)], shape);
        using (session.Run([NamedOnnxValue.CreateFromTensor(name, blank)]))
        {
        }
        return new SessionState(session, createdIn, clock.ElapsedMilliseconds);
    }

    private sealed record SessionState(InferenceSession Session, int CreatedInInvocation, long Milliseconds);

    private static float[] MemoryMarshalFloats(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    // A smooth deterministic pattern in [0, 1), the same on every machine.
    private static float[] TestImage(int seed, int length)
    {
        var pixels = new float[length];
        for (var i = 0; i < length; i++)
        {
            pixels[i] = (float)((Math.Sin((i + seed) * 0.001) + 1) / 2);
        }
        return pixels;
    }
}
