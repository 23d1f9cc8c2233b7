package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// mintFlags are the grant flags of `tokenlab mint`, named after the Twilio
// CLI token plugin's.
type mintFlags struct {
	identity, grantsJSON                          string
	ttl                                           int64
	video                                         bool
	videoRoom, roomName, chatService, syncService string
	voiceApp                                      string
	voiceIncoming                                 bool
	allowIncoming                                 optionalBool
	pushCredential, workspace, worker, role       string
}

// optionalBool is a boolean flag that also remembers whether it was given,
// so that a default can depend on other flags (the plugin's
// --allow-incoming is true unless said otherwise, and only for voice).
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	b.set, b.value = true, v
	return nil
}

// IsBoolFlag lets --allow-incoming stand alone, as a plain bool flag can.
func (b *optionalBool) IsBoolFlag() bool { return true }

// flagFor names the flag behind a grant field, so errors speak of what the
// user typed.
var flagFor = map[string]string{
	"grants.chat.service_sid":               "--chat-service-sid",
	"grants.chat.push_credential_sid":       "--push-credential-sid",
	"grants.data_sync.service_sid":          "--sync-service-sid",
	"grants.voice.outgoing.application_sid": "--voice-app-sid",
	"grants.voice.push_credential_sid":      "--push-credential-sid",
	"grants.task_router.workspace_sid":      "--workspace-sid",
	"grants.task_router.worker_sid":         "--worker-sid",
	"identity":                              "--identity",
	"ttl":                                   "--ttl",
}

func cmdMint(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "mint")
	var f mintFlags
	fs.StringVar(&f.identity, "identity", "", "the token's identity (required)")
	fs.Int64Var(&f.ttl, "ttl", token.DefaultTTL, fmt.Sprintf("lifetime in seconds, %d to %d", token.MinTTL, token.MaxTTL))
	fs.BoolVar(&f.video, "video", false, "add a video grant for every room")
	fs.StringVar(&f.videoRoom, "video-room", "", "add a video grant for this room")
	fs.StringVar(&f.roomName, "room-name", "", "the Twilio CLI token plugin's name for --video-room")
	fs.StringVar(&f.chatService, "chat-service-sid", "", "add a chat grant for this service (IS…)")
	fs.StringVar(&f.syncService, "sync-service-sid", "", "add a sync grant for this service (IS…)")
	fs.StringVar(&f.voiceApp, "voice-app-sid", "", "add a voice grant for outgoing calls through this TwiML app (AP…)")
	fs.BoolVar(&f.voiceIncoming, "voice-incoming", false, "add a voice grant that receives calls")
	fs.Var(&f.allowIncoming, "allow-incoming", "with --voice-app-sid: let the identity receive calls (the Twilio CLI token plugin's flag; default true)")
	fs.StringVar(&f.pushCredential, "push-credential-sid", "", "push credential (CR…) for the chat and voice grants")
	fs.StringVar(&f.workspace, "workspace-sid", "", "add a TaskRouter grant for this workspace (WS…)")
	fs.StringVar(&f.worker, "worker-sid", "", "TaskRouter worker (WK…), with --workspace-sid")
	fs.StringVar(&f.role, "role", "", "TaskRouter role, with --workspace-sid")
	fs.StringVar(&f.grantsJSON, "grants", "", `more grants as Twilio's JSON, e.g. '{"video":{"room":"a"}}'`)
	ov := config.Bind(fs, config.EnvAccountSID, config.EnvAPIKeySID, config.EnvRegion)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("mint takes no arguments, got %q: give the identity with --identity", fs.Args())
	}
	if f.identity == "" {
		return usageErrorf("mint: --identity is required")
	}
	if err := token.CheckTTL("--ttl", f.ttl); err != nil {
		return usageErrorf("mint: %v", err)
	}
	g, err := f.grants()
	if err != nil {
		return err
	}
	cfg, err := loadConfig(e, ov)
	if err != nil {
		return err
	}
	m, err := mint.New(cfg.Twilio, e.now)
	if err != nil {
		return err
	}
	minted, err := m.Mint(f.identity, g, time.Duration(f.ttl)*time.Second)
	if err != nil {
		return usageErrorf("mint: %s", flagError(err))
	}
	if cfg.Demo {
		fmt.Fprintln(e.stderr, "tokenlab: warning: no TWILIO_* credentials set; signed with the demo account, which Twilio rejects")
	}
	_, err = fmt.Fprintln(e.stdout, minted.Token)
	return err
}

// grants assembles the grants from the flags and --grants. A grant given
// both ways is an error rather than a silent pick.
func (f mintFlags) grants() (token.Grants, error) {
	var g token.Grants
	if f.grantsJSON != "" {
		var err error
		if g, err = token.ParseGrantsStrict([]byte(f.grantsJSON)); err != nil {
			return g, usageErrorf("mint: --grants: %v", err)
		}
		if g.Identity != "" && g.Identity != f.identity {
			return g, usageErrorf("mint: --grants has identity %q but --identity is %q: drop one", g.Identity, f.identity)
		}
	}
	fromJSON := g.Keys()
	var fromFlags []struct{ key, flag string }
	set := func(key, flag string) error {
		if slices.Contains(fromJSON, key) {
			return usageErrorf("mint: the %s grant is given both by --grants and by %s: use one", key, flag)
		}
		fromFlags = append(fromFlags, struct{ key, flag string }{key, flag})
		return nil
	}
	room := f.videoRoom
	if f.roomName != "" {
		if room != "" && room != f.roomName {
			return g, usageErrorf("mint: --room-name %q and --video-room %q name two rooms: give one", f.roomName, room)
		}
		room = f.roomName
	}
	if f.video || room != "" {
		if err := set(token.KeyVideo, "--video-room"); err != nil {
			return g, err
		}
		g.Video = &token.VideoGrant{Room: room}
	}
	if f.chatService != "" {
		if err := set(token.KeyChat, "--chat-service-sid"); err != nil {
			return g, err
		}
		g.Chat = &token.ChatGrant{ServiceSID: f.chatService, PushCredentialSID: f.pushCredential}
	}
	if f.syncService != "" {
		if err := set(token.KeySync, "--sync-service-sid"); err != nil {
			return g, err
		}
		g.Sync = &token.SyncGrant{ServiceSID: f.syncService}
	}
	incoming, err := f.incoming()
	if err != nil {
		return g, err
	}
	if f.voiceApp != "" || incoming {
		if err := set(token.KeyVoice, "--voice-app-sid/--voice-incoming"); err != nil {
			return g, err
		}
		g.Voice = &token.VoiceGrant{PushCredentialSID: f.pushCredential}
		if f.voiceApp != "" {
			g.Voice.Outgoing = &token.VoiceOutgoing{ApplicationSID: f.voiceApp}
		}
		if incoming {
			g.Voice.Incoming = &token.VoiceIncoming{Allow: true}
		}
	}
	if f.pushCredential != "" && f.chatService == "" && g.Voice == nil {
		return g, usageErrorf("mint: --push-credential-sid needs a chat or voice grant (--chat-service-sid, --voice-app-sid or --voice-incoming)")
	}
	if f.workspace != "" {
		if err := set(token.KeyTaskRouter, "--workspace-sid"); err != nil {
			return g, err
		}
		g.TaskRouter = &token.TaskRouterGrant{WorkspaceSID: f.workspace, WorkerSID: f.worker, Role: f.role}
	} else if f.worker != "" || f.role != "" {
		return g, usageErrorf("mint: --worker-sid and --role need --workspace-sid")
	}
	if len(g.Keys()) == 0 {
		return g, usageErrorf("mint: no grant asked: give --video-room ROOM (or --video), --chat-service-sid, --sync-service-sid, --voice-app-sid, --voice-incoming, --workspace-sid or --grants JSON")
	}
	return g, nil
}

// incoming says whether the voice grant receives calls. --voice-incoming
// asks for it outright; the plugin's --allow-incoming defaults to true for
// a voice grant (--voice-app-sid), as the plugin's own tokens do.
func (f mintFlags) incoming() (bool, error) {
	if f.allowIncoming.set {
		if f.voiceApp == "" && !f.voiceIncoming {
			return false, usageErrorf("mint: --allow-incoming needs a voice grant: give --voice-app-sid AP…")
		}
		if f.voiceIncoming && !f.allowIncoming.value {
			return false, usageErrorf("mint: --voice-incoming asks for incoming calls but --allow-incoming=false refuses them: drop one")
		}
		return f.allowIncoming.value, nil
	}
	return f.voiceIncoming || f.voiceApp != "", nil
}

// flagError rewrites a field error in terms of the flag that set the field.
func flagError(err error) string {
	var fe *token.FieldError
	if errors.As(err, &fe) {
		if flag, ok := flagFor[fe.Field]; ok {
			return flag + " " + fe.Problem
		}
		if strings.HasPrefix(fe.Field, "grants.") {
			return "--grants: " + fe.Error()
		}
	}
	return err.Error()
}
