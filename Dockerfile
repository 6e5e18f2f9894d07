# syntax=docker/dockerfile:1
# One multi-stage build for the three ConnectorHub programs. Pick one with --target:
#   docker build --target api         -t connectorhub-api .
#   docker build --target worker      -t connectorhub-worker .
#   docker build --target demo-agency -t connectorhub-demo-agency .
# (compose.yaml does this for you.) No secret is baked in: everything comes from the environment.

ARG DOTNET_VERSION=10.0
ARG CONFIGURATION=Release

# ---- build: restore once, publish each program in its own stage --------------------------------
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ENV DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=connectorhub-nuget,target=/root/.nuget/packages \
    dotnet restore ConnectorHub.sln

FROM build AS publish-api
ARG CONFIGURATION
RUN --mount=type=cache,id=connectorhub-nuget,target=/root/.nuget/packages \
    dotnet publish Hub.Api/Hub.Api.csproj -c "$CONFIGURATION" --no-restore -p:UseAppHost=false -o /out

FROM build AS publish-worker
ARG CONFIGURATION
RUN --mount=type=cache,id=connectorhub-nuget,target=/root/.nuget/packages \
    dotnet publish Hub.Worker/Hub.Worker.csproj -c "$CONFIGURATION" --no-restore -p:UseAppHost=false -o /out

FROM build AS publish-demo-agency
ARG CONFIGURATION
RUN --mount=type=cache,id=connectorhub-nuget,target=/root/.nuget/packages \
    dotnet publish tools/DemoAgency/DemoAgency.csproj -c "$CONFIGURATION" --no-restore -p:UseAppHost=false -o /out

# ---- runtime: ASP.NET Core runtime, non-root user, port 8080 ------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
ENV DOTNET_ENVIRONMENT=Production \
    ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    Connectors__Path=/etc/connectorhub/connectors.d
WORKDIR /app
# Connector definitions are configuration, not code: mount them at Connectors__Path
# (compose.yaml mounts ./connectors.d there, read-only).
USER $APP_UID
EXPOSE 8080

FROM runtime AS api
COPY --from=publish-api /out .
# /health over plain bash (the runtime image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Hub.Api.dll"]

FROM runtime AS worker
COPY --from=publish-worker /out .
ENTRYPOINT ["dotnet", "Hub.Worker.dll"]

FROM runtime AS demo-agency
COPY --from=publish-demo-agency /out .
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["dotnet", "DemoAgency.dll"]
