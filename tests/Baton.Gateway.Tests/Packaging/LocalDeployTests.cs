using System.ClientModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenAI;
using OpenAI.Chat;

namespace Baton.Gateway.Tests.Packaging;

/// <summary>
/// <c>deploy/local.sh</c> starts the compose file's topology as processes on 127.0.0.1 with <c>deploy/baton.json</c>:
/// Redis, Postgres and three gateways sharing them. Every gateway answers, a key made on one works on the others,
/// costs read on any count every gateway's requests, and <c>deploy/local.sh stop</c> leaves no process behind.
/// </summary>
public sealed partial class LocalDeployTests : IDisposable
{
    private const string MasterKey = "local-deploy-test-master-key-0123456789";
    private readonly string _state = Directory.CreateTempSubdirectory("baton-local-").FullName;

    public LocalDeployTests()
    {
        // Postgres runs as its own user when the tests run as root: it must be able to reach its folder in here.
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        File.SetUnixFileMode(_state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

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
            // Below Linux's ephemeral range, so that other tests' outgoing connections do not take the ports meanwhile.
            ["BATON_LOCAL_PORT"] = Random.Shared.Next(20000, 32000).ToString(System.Globalization.CultureInfo.InvariantCulture),
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

            var started = File.ReadAllLines(Path.Combine(_state, "pids")).Select(l => l.Split(' ')).ToList();
            pids.AddRange(started.Select(f => int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(5, pids.Count);
            // Each gateway runs with the container image's gen1 cap, which the runtime reads only from the environment.
            var gateways = started.Where(f => f[1].StartsWith("gateway-", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, gateways.Count);
            Assert.All(gateways, f =>
                Assert.Contains("DOTNET_GCGen1MaxBudget=0x1000000", File.ReadAllText($"/proc/{f[0]}/environ").Split('\0')));
            List<string> urls;
            lock (lines)
            {
                urls = lines.Select(l => GatewayLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
            }
            Assert.Equal(3, urls.Distinct().Count());
            // A key made on the first gateway is one of every gateway's keys (Postgres), so each answers it.
            using var http = new HttpClient();
            using var admin = new HttpRequestMessage(HttpMethod.Post, urls[0].Replace("/v1", "/admin/keys", StringComparison.Ordinal))
            {
                Content = new StringContent("""{"name":"local-deploy"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            admin.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", MasterKey);
            using var made = await http.SendAsync(admin);
            Assert.Equal(System.Net.HttpStatusCode.Created, made.StatusCode);
            var key = System.Text.Json.JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
            foreach (var url in urls)
            {
                var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url) }).GetChatClient("baton-sim");
                ChatCompletion answer = await client.CompleteChatAsync([new UserChatMessage($"Which gateway is {url}?")]);
                Assert.False(string.IsNullOrWhiteSpace(answer.Content[0].Text));
            }
            // The ledger is shared too: the last gateway's costs count the three answers, whichever gateway gave them.
            using var costs = new HttpRequestMessage(HttpMethod.Get, urls[^1] + "/costs");
            costs.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", MasterKey);
            using var report = await http.SendAsync(costs);
            var total = System.Text.Json.JsonDocument.Parse(await report.Content.ReadAsStringAsync()).RootElement.GetProperty("total");
            Assert.Equal(3, total.GetProperty("requests").GetInt32());
            // The shared configuration requires keys, so a caller without one is refused by every gateway.
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
