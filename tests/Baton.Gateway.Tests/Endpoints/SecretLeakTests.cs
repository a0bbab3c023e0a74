using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Baton.Hosting;
using Baton.Providers;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>
/// Upstreams that echo the key they received, in answers, streams and long plain-text error bodies (the simulator's
/// <c>echo-key</c> and <c>echo-key-error:OFFSET</c> faults), behind a real gateway with a SQLite cache, ledger and
/// batch store: no run of eight characters of any key reaches a response, a header, <c>/health/providers</c>, a
/// log line or the bytes of a file the gateway wrote.
/// </summary>
public sealed class SecretLeakTests(SecretLeakTests.EchoGateway gateway) : IClassFixture<SecretLeakTests.EchoGateway>
{
    public static TheoryData<string> Providers => new(EchoGateway.Keys.Keys);

    public static TheoryData<string> ErrorModels => new(EchoGateway.ErrorModels);

    private static void AssertNoKey(string text)
    {
        foreach (var key in EchoGateway.Keys.Values)
        {
            for (var i = 0; i + SecretRedactor.MinimumFragmentLength <= key.Length; i++)
            {
                var fragment = key.Substring(i, SecretRedactor.MinimumFragmentLength);
                Assert.False(text.Contains(fragment, StringComparison.Ordinal), $"'{fragment}' of a key leaked into: {text}");
            }
        }
    }

    private static string HeadersOf(HttpResponseMessage response) => response.Headers + "\n" + response.Content.Headers;

    private static HttpRequestMessage Ask(string model, bool stream, string question) => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = new StringContent(
            $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{question}}"}]}""",
            Encoding.UTF8, "application/json"),
    };

    /// <summary>The content of every chunk of an SSE answer, joined.</summary>
    private static string StreamedText(string sse)
    {
        var text = new StringBuilder();
        foreach (var line in sse.Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                using var chunk = JsonDocument.Parse(line["data: ".Length..]);
                foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
                {
                    if (choice.GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                    {
                        text.Append(content.GetString());
                    }
                }
            }
        }
        return text.ToString();
    }

    /// <summary>What the gateway shows and keeps: <c>/health/providers</c>, the log, and every file it wrote.</summary>
    private async Task AssertNothingShownOrKeptHoldsAKeyAsync()
    {
        AssertNoKey(await gateway.Http.GetStringAsync("/health/providers"));
        AssertNoKey(gateway.LogText);
        await gateway.FlushStoresAsync();
        AssertNoKey(gateway.FileBytesAsText());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_answer_echoing_the_key_reaches_no_client_cache_or_file(string provider)
    {
        var model = provider + "-echo";
        var question = "Plain echo through " + provider;

        using var first = await gateway.Http.SendAsync(Ask(model, stream: false, question));
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("miss", first.Headers.GetValues("x-baton-cache").Single());
        using (var json = JsonDocument.Parse(firstBody))
        {
            var content = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
            Assert.Contains("The key I received is " + SecretRedactor.Mask, content);
        }
        AssertNoKey(firstBody + HeadersOf(first));

        // The stored answer is replayed from the cache without the key.
        using var second = await gateway.Http.SendAsync(Ask(model, stream: false, question));
        var secondBody = await second.Content.ReadAsStringAsync();
        Assert.Equal("hit", second.Headers.GetValues("x-baton-cache").Single());
        Assert.Contains(SecretRedactor.Mask, secondBody);
        AssertNoKey(secondBody + HeadersOf(second));

        await AssertNothingShownOrKeptHoldsAKeyAsync();
        // The echo was stored, scrubbed: the check of the files above looked at real content.
        Assert.Contains(SecretRedactor.Mask, gateway.FileBytesAsText());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_streamed_answer_spelling_the_key_over_several_chunks_reaches_no_client_cache_or_file(string provider)
    {
        var model = provider + "-echo";
        var question = "Streamed echo through " + provider;

        foreach (var expected in new[] { "miss", "hit" })
        {
            using var response = await gateway.Http.SendAsync(Ask(model, stream: true, question), HttpCompletionOption.ResponseHeadersRead);
            var sse = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, response.Headers.GetValues("x-baton-cache").Single());
            Assert.Contains("data: [DONE]", sse);
            Assert.Contains("The key I received is ", StreamedText(sse));
            Assert.Contains(SecretRedactor.Mask, StreamedText(sse));
            AssertNoKey(sse + HeadersOf(response));
        }
        await AssertNothingShownOrKeptHoldsAKeyAsync();
    }

    [Theory]
    [MemberData(nameof(ErrorModels))]
    public async Task A_plain_text_error_echoing_the_key_near_the_500th_character_leaves_none_of_it(string model)
    {
        using var response = await gateway.Http.SendAsync(Ask(model, stream: false, "error echo"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var json = JsonDocument.Parse(body))
        {
            Assert.Contains("answered 401: Unauthorized (simulated)", json.RootElement.GetProperty("error").GetProperty("message").GetString());
        }
        AssertNoKey(body + HeadersOf(response));

        using var streamed = await gateway.Http.SendAsync(Ask(model, stream: true, "error echo, streamed"));
        AssertNoKey(await streamed.Content.ReadAsStringAsync() + HeadersOf(streamed));

        await AssertNothingShownOrKeptHoldsAKeyAsync();
        Assert.Contains("answered 401", gateway.LogText);
    }

    [Fact]
    public async Task A_batch_of_echoes_keeps_no_key_in_its_files_its_views_or_its_database()
    {
        var lines = new List<string>();
        foreach (var provider in EchoGateway.Keys.Keys)
        {
            lines.Add(Line($"echo-{provider}", provider + "-echo"));
        }
        lines.Add(Line("error-openai", EchoGateway.ErrorModels[0]));
        lines.Add(Line("error-anthropic", EchoGateway.ErrorModels.First(m => m.StartsWith("anthropic", StringComparison.Ordinal))));

        var fileId = await UploadAsync(string.Join('\n', lines) + "\n");
        using var created = await gateway.Http.PostAsync("/v1/batches", new StringContent(
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var batchId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var batch = await WaitForBatchAsync(batchId);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        var counts = batch.GetProperty("request_counts");
        Assert.Equal(EchoGateway.Keys.Count, counts.GetProperty("completed").GetInt32());
        Assert.Equal(2, counts.GetProperty("failed").GetInt32());

        var output = await gateway.Http.GetStringAsync($"/v1/files/{batch.GetProperty("output_file_id").GetString()}/content");
        var errors = await gateway.Http.GetStringAsync($"/v1/files/{batch.GetProperty("error_file_id").GetString()}/content");
        Assert.Contains(SecretRedactor.Mask, output);
        Assert.Contains("answered 401", errors);
        AssertNoKey(output + errors + batch.GetRawText() + await gateway.Http.GetStringAsync("/v1/files"));

        await AssertNothingShownOrKeptHoldsAKeyAsync();
    }

    private static string Line(string customId, string model) =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"batch {{{customId}}}"}]}}""";

    private async Task<string> UploadAsync(string content)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("batch"), "purpose");
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "echoes.jsonl");
        using var response = await gateway.Http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> WaitForBatchAsync(string batchId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var batch = JsonDocument.Parse(await gateway.Http.GetStringAsync($"/v1/batches/{batchId}")).RootElement;
            if (batch.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled")
            {
                return batch;
            }
            Assert.True(DateTime.UtcNow < deadline, "the batch did not finish: " + batch.GetRawText());
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A gateway on 127.0.0.1 with one provider of each kind (and the in-process simulator), each with its own key,
    /// in front of a real HTTP simulator; its cache, ledger and batch store are SQLite files of one folder, and
    /// every log line at Debug and above is kept. Per provider <c>X</c>: the model <c>X-echo</c> echoes the key in
    /// its answer, and <c>X-error-N</c> in a plain-text 401 body at character N.
    /// </summary>
    public sealed class EchoGateway : IAsyncLifetime
    {
        public static readonly IReadOnlyDictionary<string, string> Keys = new Dictionary<string, string>
        {
            ["openai"] = "sk-proj-Qm7Lx2Vb9Tz4Rw8Kp1Hd",
            ["azure"] = "az5c2b9e7a4f61b3c9d2e58d0f",
            ["anthropic"] = "sk-ant-api03-Fj3Nq8Zx5Cv1Bm6L",
            ["gemini"] = "AIzaSyC-Xk29Wq71Mz55Lp03Rt8",
            ["ollama"] = "ol-Hy6Tn4Ue2Wi8Oq0Pa5Js",
            ["local"] = "sk-local-Gz4Vx9Mb2Nc7Qw1",
        };

        private static readonly Dictionary<string, (string Type, string Path, string? ApiVersion)> Kinds = new()
        {
            ["openai"] = (ProviderTypes.OpenAi, "/v1", null),
            ["azure"] = (ProviderTypes.Azure, "/models", "2024-05-01-preview"),
            ["anthropic"] = (ProviderTypes.Anthropic, "/v1", null),
            ["gemini"] = (ProviderTypes.Gemini, "/v1beta", null),
            ["ollama"] = (ProviderTypes.Ollama, "", null),
            ["local"] = (ProviderTypes.Simulator, "", null),
        };

        /// <summary>Per provider, the key at 490 (across the cut), ending at the cut, its last character cut, and at 495.</summary>
        public static readonly string[] ErrorModels = [.. Keys.SelectMany(pair =>
            new[] { 490, 500 - pair.Value.Length, 501 - pair.Value.Length, 495 }.Select(offset => $"{pair.Key}-error-{offset}"))];

        private readonly string _directory = Directory.CreateTempSubdirectory("baton-secrets-").FullName;
        private readonly ConcurrentQueue<string> _log = new();
        private WebApplication? _simulator;
        private WebApplication? _gateway;

        public HttpClient Http { get; } = new();

        public string LogText => string.Join('\n', _log);

        /// <summary>Writes the answers the cache holds queued (it writes behind the request), so the files show them.</summary>
        public async Task FlushStoresAsync()
        {
            if (_gateway!.Services.GetService(typeof(Baton.Caching.ICacheStore)) is Baton.Caching.ICacheStore cache)
            {
                await cache.FlushAsync();
            }
        }

        /// <summary>Every file the gateway wrote (databases, their journals, batch files), as one Latin-1 text: bytes as they are on disk.</summary>
        public string FileBytesAsText()
        {
            var text = new StringBuilder();
            foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                text.Append(Encoding.Latin1.GetString(copy.ToArray())).Append('\n');
            }
            return text.ToString();
        }

        public async Task InitializeAsync()
        {
            _simulator = BatonHosts.BuildSimulator("http://127.0.0.1:0", new SimulatorBehavior());
            await _simulator.StartAsync();
            var simulatorUrl = GatewayServer.AddressOf(_simulator);

            var options = new BatonOptions();
            foreach (var (name, (type, path, apiVersion)) in Kinds)
            {
                options.Providers["p-" + name] = new ProviderOptions
                {
                    Type = type,
                    BaseUrl = type == ProviderTypes.Simulator ? null : simulatorUrl + path,
                    ApiKeyEnv = "KEY_" + name.ToUpperInvariant(),
                    ApiVersion = apiVersion,
                };
                Add(options, name + "-echo", "p-" + name, "baton-sim-1@echo-key");
            }
            foreach (var model in ErrorModels)
            {
                var dash = model.IndexOf('-', StringComparison.Ordinal);
                Add(options, model, "p-" + model[..dash], "baton-sim-1@echo-key-error:" + model[(model.LastIndexOf('-') + 1)..]);
            }
            options.Cache = new CacheOptions { Mode = CacheModes.On, Store = "sqlite", Path = Path.Combine(_directory, "cache.db") };
            options.Ledger.Path = Path.Combine(_directory, "baton.db");
            options.Batch.JobsDatabase = Path.Combine(_directory, "jobs", "baton-batches.db");
            options.Resilience = new ResilienceOptions { MaxRetries = 0, CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 100_000 } };

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(new CapturingLoggerProvider(_log));
            builder.Services.AddBaton(options, name => name.StartsWith("KEY_", StringComparison.Ordinal) ? Keys[name[4..].ToLowerInvariant()] : null);
            builder.Services.AddBatonGateway();
            _gateway = builder.Build();
            _gateway.MapBaton();
            await _gateway.StartAsync();
            Http.BaseAddress = new Uri(GatewayServer.AddressOf(_gateway));
        }

        private static void Add(BatonOptions options, string name, string provider, string model) =>
            options.Models[name] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = provider, Model = model }] };

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await GatewayServer.StopAsync(_gateway, _simulator);
            SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Keeps every formatted log line, with its exception, of every category.</summary>
    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
