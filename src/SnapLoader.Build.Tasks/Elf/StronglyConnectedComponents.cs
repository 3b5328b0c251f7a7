namespace SnapLoader.Build.Tasks.Elf;

/// <summary>Tarjan's algorithm over a graph of node indices: which nodes can reach each other.</summary>
internal static class StronglyConnectedComponents
{
    /// <summary>The component number of every node; nodes on a common cycle share one.</summary>
    /// <param name="edges">For each node, the nodes it has an edge to.</param>
    public static int[] Find(IReadOnlyList<IReadOnlyList<int>> edges)
    {
        var count = edges.Count;
        var component = new int[count];
        var visitIndex = new int[count];
        var lowLink = new int[count];
        var onStack = new bool[count];
        var stack = new Stack<int>();
        Array.Fill(visitIndex, -1);
        var nextVisit = 0;
        var nextComponent = 0;

        // Iterative, with an explicit stack of (node, next edge), so a long chain of libraries cannot overflow the call stack.
        var work = new Stack<(int Node, int Edge)>();
        for (var root = 0; root < count; root++)
        {
            if (visitIndex[root] >= 0)
            {
                continue;
            }
            work.Push((root, 0));
            while (work.Count > 0)
            {
                var (node, edge) = work.Pop();
                if (edge == 0)
                {
                    visitIndex[node] = lowLink[node] = nextVisit++;
                    stack.Push(node);
                    onStack[node] = true;
                }
                else
                {
                    var child = edges[node][edge - 1];
                    lowLink[node] = Math.Min(lowLink[node], lowLink[child]);
                }

                var descended = false;
                for (; edge < edges[node].Count; edge++)
                {
                    var next = edges[node][edge];
                    if (visitIndex[next] < 0)
                    {
                        work.Push((node, edge + 1));
                        work.Push((next, 0));
                        descended = true;
                        break;
                    }
                    if (onStack[next])
                    {
                        lowLink[node] = Math.Min(lowLink[node], visitIndex[next]);
                    }
                }
                if (descended || lowLink[node] != visitIndex[node])
                {
                    continue;
                }
                int member;
                do
                {
                    member = stack.Pop();
                    onStack[member] = false;
                    component[member] = nextComponent;
                }
                while (member != node);
                nextComponent++;
            }
        }
        return component;
    }
}
