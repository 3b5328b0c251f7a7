using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace OnnxEmbedding;

/// <summary>
/// Embeds an image with ResNet18. The event is JSON: <c>{"seed": 42}</c> makes a deterministic 224x224 test image;
/// <c>{"pixels": "&lt;base64 of 3x224x224 float32, channel first&gt;"}</c> passes a real one. Returns the 512-value
/// embedding's first values, its norm, and the timings.
/// </summary>
public class Function
{
    // Opened by its original path beside the function: with SnapLoader the file is in a memory file, and the preload
    // shim answers for that path.
    private static readonly string s_modelPath = Path.Combine(
        Path.GetDirectoryName(typeof(Function).Assembly.Location)!, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    private static readonly Lazy<InferenceSession> s_session = new(() => new InferenceSession(s_modelPath));

    public Stream Handler(Stream input)
    {
        var clock = Stopwatch.StartNew();
        var request = JsonDocument.Parse(input).RootElement;
        var session = s_session.Value;
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
            sessionMs,
            inferenceMs,
        };
        return new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response)));
    }

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
