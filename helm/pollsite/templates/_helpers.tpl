{{/* Names --------------------------------------------------------------------- */}}

{{- define "pollsite.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pollsite.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<role>": the role's Deployment, Service, Secret, ConfigMap. */}}
{{- define "pollsite.roleFullname" -}}
{{- printf "%s-%s" (include "pollsite.fullname" .root) .name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "pollsite.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pollsite.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "pollsite.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Labels -------------------------------------------------------------------- */}}

{{- define "pollsite.labels" -}}
app.kubernetes.io/name: {{ include "pollsite.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "pollsite.commonLabels" . }}
{{- end -}}

{{- define "pollsite.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pollsite
{{- end -}}

{{/* Labels of one role's objects: dict root, name (role), process (web, relay, consumer, migrate, test). */}}
{{- define "pollsite.roleLabels" -}}
{{ include "pollsite.roleSelectorLabels" . }}
{{ include "pollsite.commonLabels" .root }}
{{- end -}}

{{- define "pollsite.roleSelectorLabels" -}}
app.kubernetes.io/name: {{ include "pollsite.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- if .process }}
pollsite/process: {{ .process }}
{{- end }}
{{- end -}}

{{/* Values of one role ------------------------------------------------------------ */}}

{{/*
Deep merge: copy every key of src into dst, merging maps key by key. Unlike sprig's
mergeOverwrite, false, 0 and "" in src do replace dst's value.
*/}}
{{- define "pollsite.deepMerge" -}}
{{- $dst := index . 0 -}}
{{- range $key, $value := index . 1 -}}
{{- if and (kindIs "map" $value) (kindIs "map" (get $dst $key)) -}}
{{- include "pollsite.deepMerge" (list (get $dst $key) $value) -}}
{{- else -}}
{{- $_ := set $dst $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The values of role .name: defaults, overridden by roles.<name>, into dict .out.
Usage: {{- $role := dict }}{{- include "pollsite.role" (dict "root" $ "name" $name "out" $role) }}
*/}}
{{- define "pollsite.role" -}}
{{- $merged := deepCopy .root.Values.defaults -}}
{{- include "pollsite.deepMerge" (list $merged (deepCopy (index .root.Values.roles .name))) -}}
{{- include "pollsite.deepMerge" (list .out $merged) -}}
{{- $_ := set .out "name" .name -}}
{{- $_ := set .out.database "name" (default .name .out.database.name) -}}
{{- $_ := set .out.database "user" (default .name .out.database.user) -}}
{{- $_ := set .out "fullname" (include "pollsite.roleFullname" .) -}}
{{- end -}}

{{/* The enabled roles' names, sorted, one per line. */}}
{{- define "pollsite.enabledRoles" -}}
{{- range $name, $role := .Values.roles }}
{{- if $role.enabled }}
{{ $name }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Configuration ------------------------------------------------------------------ */}}

{{/*
The name of role's ConfigMap (dict root, role): "<role fullname>-<hash of its data>". A
change of configuration is a new ConfigMap, so the pods of the running ReplicaSet keep
the one they started with until the new version has rolled out (or forever, if its
upgrade fails before any ordinary object is touched).
*/}}
{{- define "pollsite.configMapName" -}}
{{- printf "%s-%s" .role.fullname (include "pollsite.configData" . | sha256sum | trunc 10) -}}
{{- end -}}

{{/*
The ConfigMap the role's running pods read (dict root, role), when it is not the one this
revision renders: kept in the release as it is, so the old pods can restart during the
rollout, and so that every revision's manifest holds the ConfigMap that is live (Helm 3
refuses to roll back onto an object the failed revision's manifest does not list). It
leaves with the next upgrade. Only a ConfigMap this release already owns is carried.
Under `helm template` (no cluster) there is none.
*/}}
{{- define "pollsite.runningConfigMap" -}}
{{- $name := "" -}}
{{- $live := lookup "apps/v1" "Deployment" .root.Release.Namespace .role.fullname -}}
{{- range $container := dig "spec" "template" "spec" "containers" list $live }}
{{- range $source := default list $container.envFrom }}
{{- with $source.configMapRef }}{{ $name = .name }}{{ end }}
{{- end }}
{{- end }}
{{- if and $name (ne $name (include "pollsite.configMapName" .)) }}
{{- $running := lookup "v1" "ConfigMap" .root.Release.Namespace $name }}
{{- if eq (dig "metadata" "annotations" "meta.helm.sh/release-name" "" $running) .root.Release.Name }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "pollsite.roleLabels" (dict "root" .root "name" .role.name) | nindent 4 }}
immutable: true
data:
  {{- toYaml $running.data | nindent 2 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The non-secret environment of role (dict root, role): the role's ConfigMap data. */}}
{{- define "pollsite.configData" -}}
{{- $root := .root -}}
{{- $role := .role -}}
{{- $v := $root.Values -}}
{{- $hosts := list (printf "%s" $role.fullname) (printf "%s.%s.svc" $role.fullname $root.Release.Namespace) (printf "%s.%s.svc.cluster.local" $role.fullname $root.Release.Namespace) -}}
{{- if $v.ingress.enabled }}{{ $hosts = prepend $hosts $v.ingress.host }}{{ end -}}
{{- $hosts = concat $hosts $v.django.allowedHosts -}}
{{- $origins := $v.django.csrfTrustedOrigins -}}
{{- if $v.ingress.enabled }}{{ $origins = prepend $origins (printf "%s://%s" (ternary "https" "http" $v.ingress.tls.enabled) $v.ingress.host) }}{{ end -}}
DJANGO_SETTINGS_MODULE: {{ $role.settingsModule | quote }}
DJANGO_DEBUG: {{ $v.django.debug | toString | quote }}
DJANGO_ALLOWED_HOSTS: {{ join "," $hosts | quote }}
DJANGO_CSRF_TRUSTED_ORIGINS: {{ join "," $origins | quote }}
DJANGO_BEHIND_TLS_PROXY: {{ $v.ingress.tls.enabled | toString | quote }}
DJANGO_SECURE_COOKIES: {{ $v.ingress.tls.enabled | toString | quote }}
DJANGO_ADMIN_ENABLED: {{ $v.django.adminEnabled | toString | quote }}
LOG_LEVEL: {{ $v.django.logLevel | quote }}
POLLSITE_NUM_PROXIES: {{ ternary $v.ingress.numProxies 0 $v.ingress.enabled | toString | quote }}
DATABASE_HOST: {{ $role.database.host | quote }}
DATABASE_PORT: {{ $role.database.port | toString | quote }}
DATABASE_NAME: {{ $role.database.name | quote }}
DATABASE_USER: {{ $role.database.user | quote }}
DATABASE_SSLMODE: {{ $role.database.sslmode | quote }}
JWT_ALGORITHM: {{ $v.jwt.algorithm | quote }}
JWT_ISSUER: {{ $v.jwt.issuer | quote }}
JWT_AUDIENCE: {{ $v.jwt.audience | quote }}
JWT_MAX_LIFETIME_SECONDS: {{ $v.jwt.maxLifetimeSeconds | toString | quote }}
EVENTS_NAMESPACE: {{ $v.events.namespace | quote }}
{{- range $name, $rate := $role.rateLimits }}
POLLSITE_RATE_{{ snakecase $name | upper }}: {{ $rate | quote }}
{{- end }}
GUNICORN_WORKERS: {{ $role.gunicorn.workers | toString | quote }}
GUNICORN_THREADS: {{ $role.gunicorn.threads | toString | quote }}
GUNICORN_TIMEOUT: {{ $role.gunicorn.timeout | toString | quote }}
GUNICORN_GRACEFUL_TIMEOUT: {{ $role.gunicorn.gracefulTimeout | toString | quote }}
GUNICORN_BIND: {{ printf "0.0.0.0:%d" (int $v.service.port) | quote }}
{{- range $name, $other := $v.roles }}
{{- $prefix := upper $name }}
{{ $prefix }}_URL_PREFIX: {{ $other.urlPrefix | quote }}
{{- if $other.enabled }}
{{ $prefix }}_URL: {{ printf "http://%s:%d" (include "pollsite.roleFullname" (dict "root" $root "name" $name)) (int $v.service.port) | quote }}
{{- else if $other.externalUrl }}
{{ $prefix }}_URL: {{ $other.externalUrl | quote }}
{{- end }}
{{- end }}
{{- range $key, $value := $role.env }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/*
Credentials are never generated by the chart (a render under `helm template` could not
keep them, and the migration Job must read them before any ordinary object exists): each
one comes from a Secret the operator creates first, named by convention unless
existingSecret names another. See docs/DEPLOY.md ("Secrets").
*/}}
{{- define "pollsite.jwtSecretName" -}}
{{- default (printf "%s-jwt" (include "pollsite.fullname" .)) .Values.jwt.existingSecret -}}
{{- end -}}
{{- define "pollsite.eventsSecretName" -}}
{{- default (printf "%s-events" (include "pollsite.fullname" .)) .Values.events.broker.existingSecret -}}
{{- end -}}
{{- define "pollsite.cacheSecretName" -}}
{{- default (printf "%s-cache" (include "pollsite.fullname" .)) .Values.cache.existingSecret -}}
{{- end -}}

{{/* The environment every process of a role gets (dict root, role): its Django secret key
and its database credentials, each from the role's Secret (created by the operator, named
by convention) or the one existingSecret names. */}}
{{- define "pollsite.env" -}}
{{- $root := .root -}}
{{- $role := .role -}}
{{- $v := $root.Values -}}
{{- $db := $role.database -}}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default $role.fullname $role.secretKey.existingSecret }}
      key: {{ ternary $role.secretKey.existingSecretKey "DJANGO_SECRET_KEY" (not (empty $role.secretKey.existingSecret)) }}
{{- range $field := list "host" "port" "name" "user" }}
{{- if and $db.existingSecret (index $db.existingSecretKeys $field) }}
- name: DATABASE_{{ upper $field }}
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret }}
      key: {{ index $db.existingSecretKeys $field }}
{{- end }}
{{- end }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $role.fullname $db.existingSecret }}
      key: {{ ternary $db.existingSecretKeys.password "DATABASE_PASSWORD" (not (empty $db.existingSecret)) }}
- name: DATABASE_URL
  value: "postgres://$(DATABASE_USER)@$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)?sslmode=$(DATABASE_SSLMODE){{ if $db.caConfigMap }}&sslrootcert={{ include "pollsite.databaseCaPath" . }}{{ end }}"
{{- end -}}

{{/*
What only a role's web pods get (dict root): they alone verify tokens and count rate
limits, so relays, consumers and migration Jobs hold no key material and no cache URL.
The verifying key: the identity provider's JWKS URL, or a PEM public key (inline, or
from the Secret <fullname>-jwt, key jwt-public-key); HS* (development) reads a shared
secret from the same Secret, key jwt-secret. Nothing in the release can sign an RS256/ES256
token.
*/}}
{{- define "pollsite.webEnv" -}}
{{- $v := .root.Values -}}
{{- $hs := hasPrefix "HS" $v.jwt.algorithm -}}
{{- if $v.jwt.jwksUrl }}
- name: JWT_JWKS_URL
  value: {{ $v.jwt.jwksUrl | quote }}
{{- else if and $v.jwt.publicKey (not $hs) }}
- name: JWT_PUBLIC_KEY
  value: {{ $v.jwt.publicKey | quote }}
{{- else }}
- name: {{ ternary "JWT_SECRET" "JWT_PUBLIC_KEY" $hs }}
  valueFrom:
    secretKeyRef:
      name: {{ include "pollsite.jwtSecretName" .root }}
      key: {{ default (ternary "jwt-secret" "jwt-public-key" $hs) $v.jwt.existingSecretKey }}
{{- end }}
{{- if or $v.cache.url $v.cache.existingSecret }}
- name: CACHE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "pollsite.cacheSecretName" .root }}
      key: {{ ternary $v.cache.existingSecretKey "url" (not (empty $v.cache.existingSecret)) }}
{{- end }}
{{- end -}}

{{/* The broker user of a role's relay (publisher) or consumer (dict root, role, process):
<userPrefix>-<role>-publisher|consumer, whose password is in the role's own Secret
(EVENTS_PUBLISHER_PASSWORD, EVENTS_CONSUMER_PASSWORD) or in events.broker.existingSecret
(keys <role>-publisher, <role>-consumer). events.broker.user instead names one user shared
by every process (development only: the broker can no longer tell the roles apart). Web
pods get no broker credentials: they write the outbox and the relay publishes it. */}}
{{- define "pollsite.brokerEnv" -}}
{{- $b := .root.Values.events.broker -}}
{{- $kind := ternary "publisher" "consumer" (eq .process "relay") -}}
{{- $user := default (printf "%s-%s-%s" $b.userPrefix .role.name $kind) $b.user -}}
- name: EVENTS_BROKER_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $b.existingSecret }}
      name: {{ $b.existingSecret }}
      key: {{ ternary $b.existingSecretKey (printf "%s-%s" .role.name $kind) (not (empty $b.user)) }}
      {{- else if $b.user }}
      name: {{ include "pollsite.eventsSecretName" .root }}
      key: password
      {{- else }}
      name: {{ .role.fullname }}
      key: EVENTS_{{ upper $kind }}_PASSWORD
      {{- end }}
- name: EVENTS_BROKER_URL
  value: {{ printf "amqp://%s:$(EVENTS_BROKER_PASSWORD)@%s:%d/%s" (urlquery $user) $b.host (int $b.port) (urlquery $b.vhost) | quote }}
{{- if eq .process "consumer" }}
{{- $producers := list }}
{{- range $producer := .role.consumes }}
{{- $producers = append $producers (printf "%s=%s" $producer (default (printf "%s-%s-publisher" $b.userPrefix $producer) $b.user)) }}
{{- end }}
- name: EVENTS_PUBLISHER_USERS
  value: {{ join "," $producers | quote }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod of a role (dict root, role). */}}
{{- define "pollsite.podSpecCommon" -}}
{{- $v := .root.Values -}}
serviceAccountName: {{ default (include "pollsite.serviceAccountName" .root) .serviceAccountName }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .role.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .role.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .role.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .role.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* checksum annotations: pods roll when their configuration or secrets' sources change. */}}
{{- define "pollsite.checksums" -}}
checksum/config: {{ include "pollsite.configData" . | sha256sum }}
checksum/secrets: {{ toJson (list .role.database .role.secretKey .root.Values.jwt .root.Values.events.broker .root.Values.cache) | sha256sum }}
{{- end -}}

{{/* A pod's volumes and a container's mounts (dict root, role): the in-memory /tmp, and the
database's CA certificate when roles.<r>.database.caConfigMap names one. */}}
{{- define "pollsite.volumes" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- with .role.database.caConfigMap }}
- name: database-ca
  configMap:
    name: {{ . }}
    items:
      - {key: {{ $.role.database.caConfigMapKey }}, path: ca.crt}
{{- end }}
{{- end -}}

{{- define "pollsite.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .role.database.caConfigMap }}
- name: database-ca
  mountPath: /etc/pollsite/database-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "pollsite.databaseCaPath" -}}
/etc/pollsite/database-ca/ca.crt
{{- end -}}

{{/*
The migration Job's ServiceAccount: the Job is a pre-install hook, so a ServiceAccount the
release creates does not exist yet on the first install; it runs under the namespace's
`default` one then (no token mounted, it needs no API access), else under the one named.
*/}}
{{- define "pollsite.migrationServiceAccountName" -}}
{{- ternary "default" (include "pollsite.serviceAccountName" .) .Values.serviceAccount.create -}}
{{- end -}}

{{/*
The role's configuration as a container env list (dict root, role), without the names
pollsite.env sets itself: what the migration Job gets instead of the ConfigMap, which
does not exist yet when a pre-install/pre-upgrade hook runs.
*/}}
{{- define "pollsite.configEnv" -}}
{{- $own := list -}}
{{- range $entry := include "pollsite.env" . | fromYamlArray }}{{ $own = append $own $entry.name }}{{ end -}}
{{- range $key, $value := include "pollsite.configData" . | fromYaml }}
{{- if not (has $key $own) }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
spec.replicas of a role's web Deployment (dict root, role), so that nobody's replicas are
fought over:
- autoscaling on: the live count while the Deployment exists (the HPA owns it; turning
  autoscaling on keeps the capacity it had), nothing on the first install;
- else: roles.<r>.replicas, unless the live Deployment was scaled by someone else
  (kubectl scale) and the value has not changed since the chart last set it; then the
  live count, which neither Helm 3's three-way merge nor Helm 4's server-side apply
  (same value: no conflict) changes.
The value the chart set is kept in the annotation pollsite/chart-replicas.
Under `helm template` (no cluster) lookup finds nothing: the values decide.
*/}}
{{- define "pollsite.replicas" -}}
{{- $live := lookup "apps/v1" "Deployment" .root.Release.Namespace .role.fullname -}}
{{- $liveReplicas := "" -}}
{{- $chartReplicas := "" -}}
{{- if and $live $live.spec -}}
{{- $liveReplicas = toString (default 1 $live.spec.replicas) -}}
{{- $chartReplicas = dig "metadata" "annotations" "pollsite/chart-replicas" "" $live -}}
{{- end -}}
{{- if .role.autoscaling.enabled -}}
{{- $liveReplicas -}}
{{- else if and $liveReplicas (eq $chartReplicas (toString .role.replicas)) -}}
{{- $liveReplicas -}}
{{- else -}}
{{- .role.replicas -}}
{{- end -}}
{{- end -}}

{{/*
Render a monitoring.coreos.com object only where the cluster serves its kind, else stop
with what to install. dict root, kind (ServiceMonitor, PodMonitor, PrometheusRule, ...),
value (the setting that asked for it). Every monitoring.coreos.com template calls it:
  {{- include "pollsite.requireMonitoringAPI" (dict "root" $ "kind" "PodMonitor" "value" "metrics.serviceMonitor.enabled") }}
*/}}
{{- define "pollsite.requireMonitoringAPI" -}}
{{- $api := printf "monitoring.coreos.com/v1/%s" .kind -}}
{{- if not (.root.Capabilities.APIVersions.Has $api) -}}
{{- fail (printf "pollsite: %s is on, but this cluster does not serve %s (the Prometheus Operator's CRDs). Install them first (e.g. the prometheus-operator-crds chart, or kube-prometheus-stack), or set %s=false. Rendering without a cluster (helm template): pass --api-versions %s" .value $api .value $api) -}}
{{- end -}}
{{- end -}}

{{/* Every Secret key the release's pods read that the operator creates (not the cache URL
Secret the chart makes from cache.url), as a YAML list of {name, key}. */}}
{{- define "pollsite.secretRefs" -}}
{{- range $name := include "pollsite.enabledRoles" . | splitList "\n" | compact }}
{{- $role := dict }}
{{- include "pollsite.role" (dict "root" $ "name" $name "out" $role) }}
{{- $entries := concat (include "pollsite.env" (dict "root" $ "role" $role) | fromYamlArray) (include "pollsite.webEnv" (dict "root" $) | fromYamlArray) }}
{{- if $.Values.events.enabled }}
{{- range $process := list "relay" "consumer" }}
{{- if or (and (eq $process "relay") $role.publishes) (and (eq $process "consumer") $role.consumes) }}
{{- $entries = concat $entries (include "pollsite.brokerEnv" (dict "root" $ "role" $role "process" $process) | fromYamlArray) }}
{{- end }}
{{- end }}
{{- end }}
{{- $madeHere := ternary "" (include "pollsite.cacheSecretName" $) (not (empty $.Values.cache.existingSecret)) }}
{{- range $entry := $entries }}
{{- with $entry.valueFrom }}
{{- if ne .secretKeyRef.name $madeHere }}
- {name: {{ .secretKeyRef.name | quote }}, key: {{ .secretKeyRef.key | quote }}}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
