package cluster

import (
	"github.com/redis/go-redis/v9"

	"github.com/livestorm-gateway/gateway/pubsub"
)

// The tier's Lua scripts: each runs atomically in Redis and costs one round trip.
// Scripts read Redis's own clock (TIME), so replicas with skewed clocks agree.

// publishScript appends a message to a workspace stream, trims the stream to the
// retention (by count and by age) and notes when the bus's history starts.
//
// KEYS: stream, since. ARGV: payload, max entries, retention ms, stream expiry ms.
var publishScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], now, 'NX')
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('XTRIM', KEYS[1], 'MINID', '~', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return id
`)

// replayScript returns the entries of a workspace stream after a cursor, or why it
// cannot promise they are all there: "since" (the cursor predates this Redis's history:
// it restarted empty), "expired" (the stream expired, the cursor is older than its
// expiry), "trimmed" (entries after the cursor were trimmed: older than the retention or
// beyond its count).
//
// KEYS: stream, since. ARGV: cursor ms, cursor seq, oldest ms a missing stream still
// vouches for, max entries.
var replayScript = redis.NewScript(`
local cms, cseq = tonumber(ARGV[1]), tonumber(ARGV[2])
local since = redis.call('GET', KEYS[2])
if (not since) or tonumber(since) > cms then return {'since'} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if cms < tonumber(ARGV[3]) then return {'expired'} end
  return {'ok', {}}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then
    local dms, dseq = string.match(info[i + 1], '^(%d+)-(%d+)$')
    dms, dseq = tonumber(dms), tonumber(dseq)
    if dms > cms or (dms == cms and dseq > cseq) then return {'trimmed'} end
  end
end
return {'ok', redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-' .. ARGV[2], '+', 'COUNT', ARGV[4])}
`)

// lookupScript reads a cached answer; when there is none it returns the scope's epoch and
// takes the key's fill lock if nobody holds it. Reply: {value|nil, pttl, epoch, locked
// (1 taken by this call, 0 held by another)}.
//
// KEYS: value, epoch, lock. ARGV: lock token, lock ms.
var lookupScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1]), '0', 0} end
local e = redis.call('GET', KEYS[2]) or '0'
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {false, 0, e, 1} end
return {false, 0, e, 0}
`)

// fillScript releases the fill lock (if held by this token) and stores an answer with
// its tags unless the scope's epoch moved since the lookup. Returns 1 if stored.
//
// KEYS: value, epoch, lock, tag sets... ARGV: lock token, epoch, value, ttl ms.
var fillScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 1
`)

// unlockScript releases a lock if this token holds it. KEYS: lock. ARGV: token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// renewScript extends a lock this token holds. KEYS: lock. ARGV: token, ms.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// invalidateScript bumps a scope's epoch, deletes the answers carrying the tags and
// appends the invalidation to the stream every replica reads. Returns the entry id.
//
// KEYS: epoch, invalidation stream, tag sets... ARGV: scope, origin replica, tags
// ("\n"-joined), stream max entries.
var invalidateScript = redis.NewScript(`
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], 604800000)
for i = 3, #KEYS do
  for _, k in ipairs(redis.call('SMEMBERS', KEYS[i])) do redis.call('DEL', k) end
  redis.call('DEL', KEYS[i])
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 's', ARGV[1], 'o', ARGV[2], 't', ARGV[3])
`)

// limitScript is a sliding-window log: at most n starts in any window. It records a
// start and returns 0, or returns how many microseconds until the oldest start in the
// window leaves it.
//
// KEYS: log. ARGV: n, window µs, member (unique per call).
var limitScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`)

// quotaScript stores a credential's rate-limit figures unless newer ones are stored.
// KEYS: hash. ARGV: observed ms, then field/value pairs, expiry ms.
var quotaScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'obs') or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'obs', ARGV[1])
for i = 2, #ARGV - 1, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[#ARGV])
return 1
`)

// idAfter reports whether stream id a comes after b (ids that do not parse come first).
func idAfter(a, b string) bool {
	x, err1 := pubsub.ParseCursor(a)
	y, err2 := pubsub.ParseCursor(b)
	if err1 != nil {
		return false
	}
	if err2 != nil {
		return true
	}
	return x.After(y)
}
