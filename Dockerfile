# Baton gateway image: the SDK image builds and publishes the baton command, the ASP.NET Core runtime image runs it
# as a non-root user.
#   docker build -t baton .
#   docker run -p 8080:8080 -e BATON_MASTER_KEY=<at least 16 characters> baton
# See docs/deploy.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
# Restore first, from the project files alone, so that a code change does not download the packages again.
COPY global.json Directory.Build.props Directory.Packages.props README.md LICENSE ./
COPY src/Directory.Build.props src/
COPY src/Baton.Core/Baton.Core.csproj src/Baton.Core/
COPY src/Baton.Pipelines/Baton.Pipelines.csproj src/Baton.Pipelines/
COPY src/Baton.Simulator/Baton.Simulator.csproj src/Baton.Simulator/
COPY src/Baton.Gateway/Baton.Gateway.csproj src/Baton.Gateway/
COPY src/Baton.Cli/Baton.Cli.csproj src/Baton.Cli/
RUN dotnet restore src/Baton.Cli/Baton.Cli.csproj
COPY src/ src/
RUN dotnet publish src/Baton.Cli/Baton.Cli.csproj --no-restore -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY deploy/container.json /etc/baton/baton.json
RUN ln -s /app/baton /usr/local/bin/baton
# The image's unprivileged user; its working directory holds the ledger and the batch store.
RUN mkdir -p /var/lib/baton && chown "$APP_UID" /var/lib/baton
WORKDIR /var/lib/baton
USER $APP_UID
EXPOSE 8080
# The largest gen1 budget, 16 MB per heap like gen0's (Baton.Cli.csproj). The runtime reads this one only from the
# environment. Without it, a collection that keeps a burst of long-lived data (the tokenizer's vocabulary, loaded by
# the first answer whose tokens Baton counts itself) sets a gen1 budget of about 25 MB per heap, and the requests in
# flight promoted at each gen0 collection pile up in gen1 until it is spent: 50 MB more resident memory for a while.
ENV DOTNET_GCGen1MaxBudget=0x1000000
# /health needs no key. The runtime image has no curl: bash opens the connection itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# Listening on every interface is allowed only because the configuration requires keys (auth.masterKeyEnv):
# the container refuses to start without BATON_MASTER_KEY rather than serve anyone who reaches it.
ENTRYPOINT ["baton", "serve", "--config", "/etc/baton/baton.json", "--urls", "http://0.0.0.0:8080"]
