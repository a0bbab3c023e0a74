using System.ClientModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Packaging;

/// <summary>
/// <c>deploy/local.sh</c> starts the compose file's gateways as processes on 127.0.0.1 with <c>deploy/baton.json</c>,
/// every gateway answers, and <c>deploy/local.sh stop</c> leaves no process behind.
/// </summary>
public sealed partial class LocalDeployTests : IDisposable
{
    private const string MasterKey = "local-deploy-test-master-key-0123456789";
    private readonly string _state = Directory.CreateTempSubdirectory("baton-local-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Three_gateways_start_answer_and_stop_without_leaving_a_process()
    {
        var root = ProcessRunner.RepositoryRoot();
        var script = Path.Combine(root, "deploy", "local.sh");
        var environment = new Dictionary<string, string>
        {
            ["BATON_BIN"] = $"{ProcessRunner.Dotnet} {Path.Combine(AppContext.BaseDirectory, "baton.dll")}",
            ["BATON_LOCAL_DIR"] = _state,
            // Redis and Postgres are left out until the gateway has its shared stores.
            ["BATON_LOCAL_STORES"] = "0",
            ["BATON_LOCAL_PORT"] = Random.Shared.Next(20000, 60000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["BATON_MASTER_KEY"] = MasterKey,
        };
        var start = new ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--gateways");
        start.ArgumentList.Add("3");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var topology = Process.Start(start)!;
        var lines = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        topology.OutputDataReceived += (_, e) =>
        {
            lock (lines)
            {
                lines.Add(e.Data ?? "");
            }
            if (e.Data?.StartsWith("Baton local topology ready", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        topology.ErrorDataReceived += (_, e) => { lock (lines) { lines.Add(e.Data ?? ""); } };
        topology.BeginOutputReadLine();
        topology.BeginErrorReadLine();
        var pids = new List<int>();
        try
        {
            // A safety net for a hung start only: three gateways starting on a busy machine take their time.
            var exited = topology.WaitForExitAsync();
            var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(5)));
            Assert.True(first == ready.Task, "local.sh did not get ready:\n" + string.Join('\n', lines));

            pids.AddRange(File.ReadAllLines(Path.Combine(_state, "pids")).Select(l => int.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(3, pids.Count);
            List<string> urls;
            lock (lines)
            {
                urls = lines.Select(l => GatewayLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
            }
            Assert.Equal(3, urls.Distinct().Count());
            foreach (var url in urls)
            {
                var client = new OpenAIClient(new ApiKeyCredential(MasterKey), new OpenAIClientOptions { Endpoint = new Uri(url) }).GetChatClient("baton-sim");
                ChatCompletion answer = await client.CompleteChatAsync([new UserChatMessage($"Which gateway is {url}?")]);
                Assert.False(string.IsNullOrWhiteSpace(answer.Content[0].Text));
            }
            // The shared configuration requires keys, so a caller without one is refused by every gateway.
            using var http = new HttpClient();
            using var anonymous = await http.PostAsync(urls[0] + "/chat/completions",
                new StringContent("""{"model":"baton-sim","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);

            await ProcessRunner.RunAsync("bash", [script, "stop"], root, environment, TimeSpan.FromMinutes(2));
            await topology.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
            Assert.All(pids, pid => Assert.False(IsAlive(pid), $"process {pid} is still running after local.sh stop"));
            Assert.False(File.Exists(Path.Combine(_state, "pids")));
        }
        finally
        {
            if (!topology.HasExited)
            {
                topology.Kill(entireProcessTree: true);
            }
            foreach (var pid in pids.Where(IsAlive))
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^gateway-\d+\s+(http://127\.0\.0\.1:\d+/v1)$")]
    private static partial Regex GatewayLine();
}
