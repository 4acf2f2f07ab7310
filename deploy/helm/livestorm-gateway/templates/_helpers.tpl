{{/* Name of the chart, overridable. */}}
{{- define "livestorm-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name of the release's objects. */}}
{{- define "livestorm-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "livestorm-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "livestorm-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "livestorm-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "livestorm-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "livestorm-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "livestorm-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the credentials come from: the operator's, else the chart's. */}}
{{- define "livestorm-gateway.secretName" -}}
{{- default (include "livestorm-gateway.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The largest number of replicas the release may run. */}}
{{- define "livestorm-gateway.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.maxReplicas }}{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}

{{/*
Refuse configurations that would run split-brain: several replicas without the Redis
tier each keep their own cache, bus and rate limiter (three replicas would send Livestorm
15 requests/s and miss each other's webhooks).
*/}}
{{- define "livestorm-gateway.validate" -}}
{{- if and (gt (int (include "livestorm-gateway.maxReplicas" .)) 1) (not .Values.redis.url) (not .Values.redis.inSecret) }}
{{- fail "more than one replica needs the Redis tier: set redis.url (or REDIS_URL in the secret and redis.inSecret=true)" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "autoscaling.maxReplicas must be at least autoscaling.minReplicas" }}
{{- end }}
{{- end }}
