using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Baton.Configuration;
using Baton.Gateway.Tests.TestSupport;
using Baton.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Endpoints;

/// <summary>
/// The path of a chat completion through the gateway's own code: the request's body read whole however its bytes
/// arrive (with a <c>Content-Length</c>, in pieces, or chunked), the endpoint's services taken without a
/// request scope, and an application's own endpoint filters on <c>MapBaton()</c> still run for it.
/// </summary>
public sealed class ChatRequestPathTests(ChatRequestPathTests.Gateway gateway) : IClassFixture<ChatRequestPathTests.Gateway>
{
    private const string Body = """{"model":"local-sim","messages":[{"role":"user","content":"Say something about a fox."}]}""";

    [Fact]
    public async Task A_body_with_a_content_length_that_arrives_in_pieces_is_read_whole()
    {
        var bytes = Encoding.UTF8.GetBytes(Body);
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        await stream.WriteAsync(Head($"Content-Length: {bytes.Length}"));
        // Three writes with the socket's delay off: the body reaches the server in pieces, not with the headers.
        foreach (var piece in bytes.Chunk(bytes.Length / 3 + 1))
        {
            await stream.WriteAsync(piece);
            await stream.FlushAsync();
        }

        var (status, body) = await ReadResponseAsync(stream);

        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task A_chunked_body_without_a_content_length_is_read_whole()
    {
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Body)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal("local-sim", response.Headers.GetValues("x-baton-model").Single());
    }

    [Fact]
    public async Task A_chat_completion_makes_no_request_scope_and_runs_the_applications_filters()
    {
        gateway.Seen.Clear();

        using var response = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(gateway.Seen);
        Assert.Equal("/v1/chat/completions", seen.Path);
        Assert.True(seen.FilterRan, "the application's endpoint filter on MapBaton() did not run for the chat endpoint");
        Assert.True(seen.FilterSawCaller, "the application's filter ran before the gateway had authenticated the caller");
        // The feature exists once anything asked the request for its services, which creates the scope.
        Assert.False(seen.ScopeMade, "the chat endpoint asked for the request's services, creating a scope");
    }

    [Fact]
    public async Task A_request_without_a_key_is_refused_before_the_endpoint_runs()
    {
        using var http = new HttpClient { BaseAddress = gateway.Http.BaseAddress };

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_api_key", json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, gateway.Http.BaseAddress!.Port);
        return client;
    }

    private static byte[] Head(string lengthHeader) => Encoding.ASCII.GetBytes(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        $"Authorization: Bearer {Gateway.MasterKey}\r\nConnection: close\r\n{lengthHeader}\r\n\r\n");

    /// <summary>The status and body of the one response on a connection the server closes after it.</summary>
    private static async Task<(int Status, string Body)> ReadResponseAsync(NetworkStream stream)
    {
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        return (status, response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    /// <summary>What a request of the gateway showed the application's middleware and filter.</summary>
    public sealed record SeenRequest(string Path, bool FilterRan, bool ScopeMade, bool FilterSawCaller);

    /// <summary>
    /// Baton mapped into an application of its own, with keys, a middleware that looks at each request once it is
    /// answered, and an endpoint filter of its own on <c>MapBaton()</c>'s endpoints.
    /// </summary>
    public sealed class Gateway : IAsyncLifetime
    {
        public const string MasterKey = "sk-request-path-master";
        private const string MasterKeyVariable = "REQUEST_PATH_MASTER_KEY";
        private readonly string _directory = Directory.CreateTempSubdirectory("baton-request-path-").FullName;
        private WebApplication? _app;

        public HttpClient Http { get; } = new();

        public ConcurrentQueue<SeenRequest> Seen { get; } = new();

        public async Task InitializeAsync()
        {
            var options = new BatonOptions();
            options.Providers["sim-local"] = new ProviderOptions { Type = ProviderTypes.Simulator };
            options.Models["local-sim"] = new ModelOptions { Deployments = [new DeploymentOptions { Provider = "sim-local", Model = "baton-sim-1" }] };
            options.Ledger.Path = Path.Combine(_directory, "baton.db");
            options.Batch.JobsDatabase = Path.Combine(_directory, "jobs", "baton-batches.db");
            options.Auth.MasterKeyEnv = MasterKeyVariable;

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddBaton(options, name => name == MasterKeyVariable ? MasterKey : null);
            builder.Services.AddBatonGateway();
            _app = builder.Build();
            _app.Use(async (http, next) =>
            {
                await next(http);
                Seen.Enqueue(new SeenRequest(http.Request.Path.Value ?? "", http.Items.ContainsKey(FilterMark),
                    http.Features.Get<IServiceProvidersFeature>() is not null, http.Items[FilterMark] is true));
            });
            _app.MapBaton().AddEndpointFilter((context, next) =>
            {
                // The gateway's own filter runs first: by now the caller is known.
                context.HttpContext.Items[FilterMark] = context.HttpContext.Features.Get<Baton.Auth.CallerIdentity>() is not null;
                return next(context);
            });
            await _app.StartAsync();
            Http.BaseAddress = new Uri(GatewayServer.AddressOf(_app));
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);
        }

        private const string FilterMark = "test.filter-ran";

        public async Task DisposeAsync()
        {
            Http.Dispose();
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
