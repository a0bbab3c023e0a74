using System.CommandLine;
using Baton.Gateway.Hosting;
using Baton.Simulation;
using Microsoft.AspNetCore.Builder;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary><c>baton simulate</c>: runs the provider simulator as an HTTP server.</summary>
internal static class SimulateCommand
{
    public static Command Create(CliConsole console)
    {
        var port = new Option<int>("--port", "-p") { Description = "Port on 127.0.0.1.", DefaultValueFactory = _ => 8090 };
        var latency = new Option<double>("--latency-ms") { Description = "Delay before any answer, in ms." };
        var ttft = new Option<double>("--ttft-ms") { Description = "Further delay before the first token, in ms." };
        var tps = new Option<double>("--tps") { Description = "Tokens per second after the first (0: no pacing)." };
        var words = new Option<int>("--words") { Description = "Words in each text answer after its opening (0: 12 to 35, chosen by the prompt)." };
        var command = new Command("simulate",
            "Run simulated models over HTTP in the OpenAI, Anthropic, Gemini and Ollama wire formats. " +
            "Ask for faults with the x-baton-sim-fault header or a model suffix: @429, @429:SECONDS, @500, @503, @401, @hang, @reset, @cut:N, @malformed, @echo-key, @echo-key-error:OFFSET.")
        {
            port, latency, ttft, tps, words,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var behavior = new SimulatorBehavior
            {
                LatencyMs = parse.GetValue(latency),
                TimeToFirstTokenMs = parse.GetValue(ttft),
                TokensPerSecond = parse.GetValue(tps),
                AnswerWords = Math.Max(0, parse.GetValue(words)),
            };
            var url = $"http://127.0.0.1:{parse.GetValue(port)}";
            var app = BatonHosts.BuildSimulator(url, behavior);
            if (!await CommonOptions.StartAsync(console, app, url, cancellationToken, "--port"))
            {
                return CommonOptions.StartError;
            }
            console.Out.MarkupLine($"[green]Baton simulator listening on {url}[/]: OpenAI /v1/chat/completions, Anthropic /v1/messages, " +
                                   "Gemini /v1beta/models/{{model}}:generateContent, Ollama /api/chat. Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            return 0;
        });
        return command;
    }
}
