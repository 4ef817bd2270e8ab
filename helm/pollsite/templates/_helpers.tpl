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

{{/* Hook annotations of what the migration Job reads (ConfigMaps, Secrets): it runs
before install/upgrade, so they must exist before it; pre-rollback restores them. */}}
{{- define "pollsite.configHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade,pre-rollback
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
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
DJANGO_BEHIND_TLS_PROXY: {{ and $v.ingress.enabled $v.ingress.tls.enabled | toString | quote }}
DJANGO_SECURE_COOKIES: {{ and $v.ingress.enabled $v.ingress.tls.enabled | toString | quote }}
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
{{- if $v.jwt.publicKey }}
JWT_PUBLIC_KEY: {{ $v.jwt.publicKey | quote }}
{{- end }}
EVENTS_NAMESPACE: {{ $v.events.namespace | quote }}
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

{{/* A Secret's value: the one already in the cluster (kept across upgrades), else the
given one, else a new random one. dict root, secret (name), key, value. Base64. */}}
{{- define "pollsite.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if .value -}}
{{- .value | b64enc -}}
{{- else if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}

{{- define "pollsite.jwtSecretName" -}}
{{- default (printf "%s-jwt" (include "pollsite.fullname" .)) .Values.jwt.existingSecret -}}
{{- end -}}
{{- define "pollsite.eventsSecretName" -}}
{{- default (printf "%s-events" (include "pollsite.fullname" .)) .Values.events.broker.existingSecret -}}
{{- end -}}
{{- define "pollsite.cacheSecretName" -}}
{{- default (printf "%s-cache" (include "pollsite.fullname" .)) .Values.cache.existingSecret -}}
{{- end -}}

{{/* The environment every process of a role gets (dict root, role): ConfigMap, then the
secrets, each from the role's own Secret or the operator's existing one. */}}
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
  value: "postgres://$(DATABASE_USER)@$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)?sslmode=$(DATABASE_SSLMODE)"
{{- if not $v.jwt.publicKey }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "pollsite.jwtSecretName" $root }}
      key: {{ ternary $v.jwt.existingSecretKey "jwt-secret" (not (empty $v.jwt.existingSecret)) }}
{{- end }}
{{- if $v.events.enabled }}
- name: EVENTS_BROKER_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "pollsite.eventsSecretName" $root }}
      key: {{ ternary $v.events.broker.existingSecretKey "password" (not (empty $v.events.broker.existingSecret)) }}
- name: EVENTS_BROKER_URL
  value: {{ printf "amqp://%s:$(EVENTS_BROKER_PASSWORD)@%s:%d/%s" (urlquery $v.events.broker.user) $v.events.broker.host (int $v.events.broker.port) (urlquery $v.events.broker.vhost) | quote }}
{{- end }}
{{- if or $v.cache.url $v.cache.existingSecret }}
- name: CACHE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "pollsite.cacheSecretName" $root }}
      key: {{ ternary $v.cache.existingSecretKey "url" (not (empty $v.cache.existingSecret)) }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod of a role (dict root, role). */}}
{{- define "pollsite.podSpecCommon" -}}
{{- $v := .root.Values -}}
serviceAccountName: {{ include "pollsite.serviceAccountName" .root }}
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

{{- define "pollsite.tmpVolume" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
