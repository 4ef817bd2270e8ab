-- wrk script for GETs: figures reported by bench/wrk_report.lua, like votes.lua.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "wrk_report.lua")

function setup(thread)
  track_thread(thread)
end
