namespace SnapLoader.Build.Tasks.Elf;

/// <summary>The outcome of <see cref="LoadOrder.Sort{T}"/>.</summary>
/// <typeparam name="T">The caller's library item.</typeparam>
/// <param name="Ordered">Every input library once, each after the libraries of the set that it needs (except where a cycle was broken).</param>
/// <param name="Cycles">
/// One entry per group of libraries that need each other (a strongly connected component of more than one library):
/// their file names in the order they appear in <paramref name="Ordered"/>. Empty when there is no cycle.
/// </param>
public sealed record LoadOrderResult<T>(IReadOnlyList<T> Ordered, IReadOnlyList<IReadOnlyList<string>> Cycles);
