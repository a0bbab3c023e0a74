using System.CommandLine;
using Baton.Client;
using Baton.Errors;
using Baton.Hosting;
using Baton.Postgres;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton chat</c>: asks a model through the Baton library, once (with a prompt) or in an interactive
/// multi-turn session (without one), where <c>/model NAME</c>, <c>/system TEXT</c>, <c>/reset</c> and
/// <c>/exit</c> steer the conversation.
/// </summary>
internal static class ChatCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var prompt = new Argument<string?>("prompt") { Description = "What to ask. Without it, an interactive session starts.", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<string?>("--model", "-m") { Description = "A configured model (default: the first one)." };
        var stream = new Option<bool>("--stream", "-s") { Description = "Print the answer as it arrives." };
        var system = new Option<string?>("--system") { Description = "A system prompt." };
        var command = new Command("chat", "Ask a model, or chat with one interactively.") { prompt, config, model, stream, system };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = CommonOptions.Load(console, parse.GetValue(config));
            if (loaded is null)
            {
                return CommonOptions.ConfigurationError;
            }
            var chosen = parse.GetValue(model);
            if (chosen is not null && !loaded.Options.Models.ContainsKey(chosen))
            {
                console.Error.WriteLine($"baton: unknown model '{chosen}'. Configured models: {string.Join(", ", loaded.Options.Models.Keys)}.");
                return 1;
            }
            CommonOptions.AnnounceSource(console, loaded);

            // With postgres.connection, what it spends is recorded in the shared ledger, and counts against shared budgets.
            await using var services = new ServiceCollection().AddBatonPostgres(loaded.Options).AddBaton(loaded.Options).AddBatonSimulator().BuildServiceProvider();
            var session = new ChatSession(console, services.GetRequiredService<BatonChatClient>(), chosen, parse.GetValue(system));
            var text = parse.GetValue(prompt);
            return text is null
                ? await session.RunInteractiveAsync(cancellationToken)
                : await session.AskOnceAsync(text, parse.GetValue(stream), cancellationToken);
        });
        return command;
    }

    private sealed class ChatSession(CliConsole console, BatonChatClient client, string? model, string? system)
    {
        private readonly List<ChatMessage> _history = [];
        private string _model = model ?? client.DefaultModel;
        private string? _system = system;

        public async Task<int> AskOnceAsync(string prompt, bool stream, CancellationToken cancellationToken)
        {
            _history.Add(new ChatMessage(ChatRole.User, prompt));
            return await AnswerAsync(stream, cancellationToken) ? 0 : 1;
        }

        public async Task<int> RunInteractiveAsync(CancellationToken cancellationToken)
        {
            console.Out.MarkupLine($"[grey]Chatting with [bold]{Markup.Escape(_model)}[/]. Commands: /model NAME, /system TEXT, /reset, /exit.[/]");
            while (!cancellationToken.IsCancellationRequested)
            {
                console.Out.Markup("[bold blue]you>[/] ");
                var line = await console.In.ReadLineAsync(cancellationToken);
                if (line is null)
                {
                    break;
                }
                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }
                if (line.StartsWith('/'))
                {
                    if (!HandleCommand(line))
                    {
                        break;
                    }
                    continue;
                }
                _history.Add(new ChatMessage(ChatRole.User, line));
                if (!await AnswerAsync(stream: true, cancellationToken))
                {
                    // Keep the history consistent: the question that got no answer is dropped.
                    _history.RemoveAt(_history.Count - 1);
                }
            }
            console.Out.MarkupLine("[grey]Bye.[/]");
            return 0;
        }

        /// <summary>Returns false when the session should end.</summary>
        private bool HandleCommand(string line)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var name = (space < 0 ? line : line[..space]).ToLowerInvariant();
            var argument = space < 0 ? "" : line[(space + 1)..].Trim();
            switch (name)
            {
                case "/exit" or "/quit":
                    return false;
                case "/reset":
                    _history.Clear();
                    console.Out.MarkupLine("[grey]History cleared.[/]");
                    break;
                case "/system":
                    _system = argument.Length == 0 ? null : argument;
                    console.Out.MarkupLine(_system is null ? "[grey]System prompt removed.[/]" : "[grey]System prompt set.[/]");
                    break;
                case "/model" when argument.Length > 0:
                    _model = argument;
                    console.Out.MarkupLine($"[grey]Model: {Markup.Escape(_model)}[/]");
                    break;
                default:
                    console.Out.MarkupLine("[grey]Commands: /model NAME, /system TEXT, /reset, /exit.[/]");
                    break;
            }
            return true;
        }

        private async Task<bool> AnswerAsync(bool stream, CancellationToken cancellationToken)
        {
            var messages = _system is null ? _history : [new ChatMessage(ChatRole.System, _system), .. _history];
            var options = new ChatOptions { ModelId = _model };
            try
            {
                ChatResponse response;
                if (stream)
                {
                    var updates = new List<ChatResponseUpdate>();
                    await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
                    {
                        updates.Add(update);
                        console.Out.Write(update.Text);
                    }
                    console.Out.WriteLine();
                    response = updates.ToChatResponse();
                }
                else
                {
                    response = await client.GetResponseAsync(messages, options, cancellationToken);
                    console.Out.WriteLine(response.Text);
                }
                _history.AddRange(response.Messages);
                PrintFooter(response);
                return true;
            }
            catch (BatonException ex)
            {
                console.Error.WriteLine($"baton: {ex.Message}");
                return false;
            }
        }

        private void PrintFooter(ChatResponse response)
        {
            var properties = response.AdditionalProperties;
            var deployment = properties?.GetValueOrDefault(BatonResponseProperties.Deployment) ?? "?";
            var elapsed = properties?.GetValueOrDefault(BatonResponseProperties.ProcessingTimeMs) is double ms ? $"{ms:0} ms" : "";
            var usage = response.Usage;
            var footer = $"({deployment} · {usage?.InputTokenCount ?? 0} in / {usage?.OutputTokenCount ?? 0} out tokens · {elapsed})";
            console.Out.MarkupLine($"[grey]{Markup.Escape(footer)}[/]");
        }
    }
}
